package push

// This file is the device side of the protocol: what `gateway
// authenticator` and the tests use as a phone. Standard library only.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Device is an enrolled push device: the gateway it talks to, its ID and
// its private key.
type Device struct {
	Server string // the gateway's base URL
	ID     string
	Key    ed25519.PrivateKey
	User   string // the account's email, for display
	Name   string
	// HTTP sends the requests (default: a client with a timeout longer
	// than MaxWait).
	HTTP *http.Client
	// Now is the device's clock (default time.Now).
	Now func() time.Time
}

// APIError is an error answer of the device API.
type APIError struct {
	Status int
	Code   string // one of the Code constants
	Msg    string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("gateway refused (%d %s): %s", e.Status, e.Code, e.Msg)
}

// ErrorCode returns the device API error code in err's chain, or "".
func ErrorCode(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}

// ParseLink splits an enrolment link into the gateway's base URL and the
// one-time token (the link's fragment).
func ParseLink(link string) (server, token string, err error) {
	u, err := url.Parse(strings.TrimSpace(link))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", "", fmt.Errorf("push: %q is not an enrolment link (https://…%s#TOKEN)", link, EnrolPath)
	}
	prefix, ok := strings.CutSuffix(u.Path, EnrolPath)
	if !ok || u.Fragment == "" {
		return "", "", fmt.Errorf("push: %q is not an enrolment link (https://…%s#TOKEN)", link, EnrolPath)
	}
	return u.Scheme + "://" + u.Host + prefix, u.Fragment, nil
}

// NewKey generates a device key.
func NewKey() (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	return key, err
}

// Enrol uses an enrolment link: it registers key's public half under name
// and returns the device. The enrolment is active once the browser page
// that showed the link has moved on (EnrolResponse.Confirmed is false
// until then).
func Enrol(ctx context.Context, link, name string, key ed25519.PrivateKey, hc *http.Client) (*Device, error) {
	server, token, err := ParseLink(link)
	if err != nil {
		return nil, err
	}
	d := &Device{Server: server, Key: key, HTTP: hc}
	body, _ := json.Marshal(EnrolRequest{Token: token, Name: name, PublicKey: b64(key.Public().(ed25519.PublicKey))})
	var resp EnrolResponse
	if err := d.do(ctx, http.MethodPost, EnrolPath, body, &resp); err != nil {
		return nil, err
	}
	d.ID, d.User, d.Name = resp.DeviceID, resp.User, resp.Name
	return d, nil
}

// Challenges returns the pending pushes of the device's user, oldest first,
// waiting up to wait (at most MaxWait) for one to appear.
func (d *Device) Challenges(ctx context.Context, wait time.Duration) ([]Challenge, error) {
	secs := min(max(int(wait/time.Second), 0), int(MaxWait/time.Second))
	var resp ChallengesResponse
	if err := d.do(ctx, http.MethodGet, ChallengesPath+"?wait="+strconv.Itoa(secs), nil, &resp); err != nil {
		return nil, err
	}
	return resp.Challenges, nil
}

// Approve answers a push with the number the browser shows.
func (d *Device) Approve(ctx context.Context, id string, number int) (AnswerResponse, error) {
	return d.answer(ctx, id, AnswerRequest{Decision: Approve, Number: number})
}

// Deny refuses a push.
func (d *Device) Deny(ctx context.Context, id string) (AnswerResponse, error) {
	return d.answer(ctx, id, AnswerRequest{Decision: Deny})
}

func (d *Device) answer(ctx context.Context, id string, req AnswerRequest) (AnswerResponse, error) {
	body, _ := json.Marshal(req)
	var resp AnswerResponse
	err := d.do(ctx, http.MethodPost, ChallengesPath+"/"+url.PathEscape(id), body, &resp)
	return resp, err
}

// do sends one signed request to path (under the server's base URL) and
// decodes a 2xx answer into out, or returns an *APIError.
func (d *Device) do(ctx context.Context, method, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(d.Server, "/")+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Portcullis authenticator ("+runtime.GOOS+")")
	d.sign(req, body)
	hc := d.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: MaxWait + 15*time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e ErrorResponse
		if json.Unmarshal(raw, &e) != nil || e.Code == "" {
			e = ErrorResponse{Code: "http_" + strconv.Itoa(resp.StatusCode), Error: strings.TrimSpace(string(raw))}
		}
		return &APIError{Status: resp.StatusCode, Code: e.Code, Msg: e.Error}
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("push: malformed answer from %s: %w", req.URL.Path, err)
	}
	return nil
}

// sign adds the signature headers (see SigningString).
func (d *Device) sign(req *http.Request, body []byte) {
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	ts := now().Unix()
	nonce := newID()
	msg := SigningString(req.Method, req.URL.RequestURI(), ts, d.ID, nonce, body)
	if d.ID != "" {
		req.Header.Set(HeaderDevice, d.ID)
	}
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignature, b64(ed25519.Sign(d.Key, msg)))
}

// deviceFile is the key file's JSON.
type deviceFile struct {
	Server     string `json:"server"`
	DeviceID   string `json:"device_id"`
	PrivateKey string `json:"private_key"` // the Ed25519 seed, base64url
	User       string `json:"user,omitempty"`
	Name       string `json:"name,omitempty"`
}

// Reserve creates path, empty and readable by its owner only, failing if
// it exists: call it before Enrol so that a device is never enrolled
// without a place to keep its key.
func Reserve(path string) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	return fh.Close()
}

// Save writes the device to path (mode 0600), replacing it.
func (d *Device) Save(path string) error {
	b, err := json.MarshalIndent(deviceFile{Server: d.Server, DeviceID: d.ID, PrivateKey: b64(d.Key.Seed()),
		User: d.User, Name: d.Name}, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil { // WriteFile keeps an existing file's mode
		return err
	}
	return os.Rename(tmp, path)
}

// LoadDevice reads a device saved by Save. It refuses a file that others
// may read, as ssh does with private keys.
func LoadDevice(path string) (*Device, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("push: %s is readable by others (mode %v); run chmod 600 on it", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f deviceFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("push: %s is not a device file: %w", path, err)
	}
	seed, err := decodeB64(f.PrivateKey)
	if err != nil || len(seed) != ed25519.SeedSize || f.Server == "" || f.DeviceID == "" {
		return nil, fmt.Errorf("push: %s is not a complete device file", path)
	}
	return &Device{Server: f.Server, ID: f.DeviceID, Key: ed25519.NewKeyFromSeed(seed), User: f.User, Name: f.Name}, nil
}

package enterprise

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// Revoker ends every session of a user on every node (session.Manager).
type Revoker interface {
	RevokeUser(ctx context.Context, userID int64) (int, error)
}

// Hasher hashes a password for storage (password.Hasher).
type Hasher interface {
	Hash(pw string) (string, error)
}

// Handler serves the LastPass-compatible Enterprise API on
// POST /enterpriseapi.php and POST /. Its fields are its dependencies.
type Handler struct {
	Store    store.Store
	Sessions Revoker
	Hasher   Hasher
	Logger   *slog.Logger
	Now      func() time.Time
	// CID is the company ID requests must carry (enterprise.cid); when
	// empty, the one `gateway api enterprise-secret` chose and stored with
	// the secret.
	CID string
	// SecretKey is the HMAC key the provhash is kept under.
	SecretKey []byte
	// ResetMFA removes a user's MFA enrolments with its audit event
	// (mfa.ResetUser), for disablemultifactor.
	ResetMFA func(ctx context.Context, st store.Store, email, actor string) (store.User, int, error)
	// Zone is the time zone of reporting's times (§2.11); nil is
	// America/New_York, LastPass's.
	Zone *time.Location
	// Limit is how many requests a second one client IP may make
	// (429 beyond); 0 means DefaultRate.
	Limit float64
	// MaxBody bounds a request body (413 beyond); 0 means DefaultMaxBody.
	MaxBody int64

	limiter     limiter
	defaultZone sync.Once
	loadedZone  *time.Location
}

// Defaults.
const (
	DefaultRate    = 20
	DefaultMaxBody = 32 << 20
)

// Paths the dispatcher answers on (§1.1: clients give the full URL; one
// mock serves it at /).
const (
	Path    = "/enterpriseapi.php"
	altPath = "/{$}"
)

// Mount registers the dispatcher.
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.Handle("POST "+Path, h)
	mux.Handle("POST "+Path+"/", h)
	mux.Handle("POST "+altPath, h)
}

// request is one call's envelope (§1.2).
type request struct {
	CID      string
	Provhash string
	Cmd      string
	Data     json.RawMessage // "null" when absent
	User     string          // top-level user (reporting, §1.2)
	APIUser  string
}

// call is one authenticated request in progress.
type call struct {
	h     *Handler
	r     *http.Request
	req   request
	actor string // "api" or "api:APIUSER"
	ip    string
}

// command answers one cmd: the response value (an Object, usually), or an
// error for a fault that is not the client's.
type command func(c *call) (any, error)

// commands is the catalogue (§1.4), filled by each command's file.
var commands = map[string]command{}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.limiter.allow(web.ClientIP(r), h.rate(), h.now()) {
		h.writeJSON(w, http.StatusTooManyRequests, obj("status", "FAIL", "error", "Too many requests: slow down"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody()))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		h.writeJSON(w, http.StatusRequestEntityTooLarge, obj("status", "FAIL", "error", "Request body too large"))
		return
	}
	if err != nil {
		return // the client went away
	}
	// A body that cannot be read as an envelope is a FAIL (it carries no
	// credentials to check, and the answer tells nothing about them);
	// everything else is authenticated first.
	req, perr := parseRequest(body)
	if perr != nil {
		h.writeJSON(w, http.StatusOK, fail(perr.Error()))
		return
	}
	if !h.authorized(r.Context(), req) {
		h.authError(w)
		return
	}
	c := &call{h: h, r: r, req: req, actor: "api", ip: web.ClientIP(r)}
	if req.APIUser != "" {
		c.actor = "api:" + req.APIUser
	}
	cmd, ok := commands[req.Cmd]
	if !ok {
		h.writeJSON(w, http.StatusOK, fail("Unknown command"))
		return
	}
	res, err := cmd(c)
	if errors.Is(err, errThrottled) {
		h.writeJSON(w, http.StatusTooManyRequests, obj("status", "FAIL", "error", "Too many requests: slow down"))
		return
	}
	if err != nil {
		h.fault(w, r, err)
		return
	}
	if s, ok := res.(streamed); ok {
		h.stream(w, r, s)
		return
	}
	h.writeJSON(w, http.StatusOK, res)
}

// errThrottled is a command's own rate limit (updateemail's): 429.
var errThrottled = errors.New("throttled")

// fault answers an error that is not the client's: 503 when the directory
// is down, else 500; the cause goes to the log only.
func (h *Handler) fault(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	if errors.Is(err, store.ErrUnavailable) {
		status = http.StatusServiceUnavailable
	}
	h.Logger.Error("enterprise api failed", "path", r.URL.Path, "err", err)
	h.writeJSON(w, status, obj("status", "FAIL", "error", "Internal error"))
}

// parseRequest reads the envelope: JSON when the body starts with {
// whatever the Content-Type says, else form fields whose data may be JSON
// text (§1.2 compat rule). cid may be a number or a string.
func parseRequest(body []byte) (request, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		return parseJSON(trimmed)
	}
	form, err := url.ParseQuery(string(trimmed))
	if err != nil {
		return request{}, errors.New("Malformed request body")
	}
	req := request{CID: form.Get("cid"), Provhash: form.Get("provhash"), Cmd: form.Get("cmd"),
		User: form.Get("user"), APIUser: form.Get("apiuser"), Data: json.RawMessage("null")}
	if d := strings.TrimSpace(form.Get("data")); d != "" {
		if json.Valid([]byte(d)) {
			req.Data = json.RawMessage(d)
		} else {
			s, _ := json.Marshal(d) // a bare word such as all
			req.Data = s
		}
	}
	return req, nil
}

func parseJSON(body []byte) (request, error) {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil {
		return request{}, errors.New("Malformed JSON: " + err.Error())
	}
	req := request{Data: json.RawMessage("null")}
	if d, ok := env["data"]; ok {
		req.Data = d
	}
	var err error
	req.CID, err = scalar(env["cid"])
	for _, f := range []struct {
		dst  *string
		name string
	}{{&req.Provhash, "provhash"}, {&req.Cmd, "cmd"}, {&req.User, "user"}, {&req.APIUser, "apiuser"}} {
		s, e := scalar(env[f.name])
		if e != nil {
			err = errors.Join(err, errors.New(f.name+" must be a string"))
		}
		*f.dst = s
	}
	return req, err
}

// scalar reads a JSON string or number as text; absent or null is "".
func scalar(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), nil
	}
	return "", errors.New("not a string or number")
}

// authorized checks cid and provhash. An unknown cid and a wrong provhash
// take the same path and give the same answer; the hash is compared in
// constant time, and a store failure refuses.
func (h *Handler) authorized(ctx context.Context, req request) bool {
	cred, err := h.Store.Credential(ctx, store.CredentialEnterprise, CredentialName)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			h.Logger.Error("enterprise api: reading the secret failed", "err", err)
		}
		cred.SecretHash = nil
	}
	want := h.CID
	if want == "" {
		want = cred.ClientID
	}
	ok := hmac.Equal(HashSecret(h.SecretKey, req.Provhash), cred.SecretHash)
	return ok && want != "" && req.CID == want && req.Provhash != ""
}

// authErrorBody is LastPass's answer to a bad cid or provhash, byte for
// byte (§1.3, recorded).
const authErrorBody = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<lastpass rc=\"Authorization Error\"/>"

func (h *Handler) authError(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, authErrorBody)
}

// writeJSON answers with compact JSON under LastPass's Content-Type, which
// says XML even for JSON (§1.3).
func (h *Handler) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		h.Logger.Error("enterprise api: encoding the answer failed", "err", err)
		status, b = http.StatusInternalServerError, []byte(`{"status":"FAIL","error":"Internal error"}`)
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	w.Write(b)
}

// fail is the logical error answer (§1.3): HTTP 200, status FAIL.
func fail(msg string) Object { return obj("status", "FAIL", "error", msg) }

// ok is the plain success answer.
func ok() Object { return obj("status", "OK") }

// decodeData decodes the data member into v; a type mismatch is a FAIL
// answer naming it.
func (c *call) decodeData(v any) error {
	dec := json.NewDecoder(bytes.NewReader(c.req.Data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return dataError(err)
	}
	return nil
}

// dataError words a decoding error for the client, in JSON's terms rather
// than Go's: "Invalid data: username must be a string, got number".
func dataError(err error) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return errors.New("Invalid data: " + strings.TrimPrefix(err.Error(), "json: "))
	}
	want := jsonKind(te.Type)
	if te.Field == "" {
		return fmt.Errorf("Invalid data: expected %s, got %s", want, te.Value)
	}
	return fmt.Errorf("Invalid data: %s must be %s, got %s", te.Field, want, te.Value)
}

// jsonKind names the JSON value a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "a number"
}

// event is an audit event of this call.
func (c *call) event(typ, subject string, details map[string]string) *audit.Event {
	if details == nil {
		details = map[string]string{}
	}
	details["cmd"] = c.req.Cmd
	return &audit.Event{Type: typ, Actor: c.actor, Subject: subject, IP: c.ip, Outcome: audit.Success, Details: details}
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) rate() float64 {
	if h.Limit > 0 {
		return h.Limit
	}
	return DefaultRate
}

func (h *Handler) maxBody() int64 {
	if h.MaxBody > 0 {
		return h.MaxBody
	}
	return DefaultMaxBody
}

// zone is Zone, else America/New_York, loaded once (LoadLocation reads
// the zone database on every call).
func (h *Handler) zone() *time.Location {
	if h.Zone != nil {
		return h.Zone
	}
	h.defaultZone.Do(func() {
		h.loadedZone = time.UTC
		if z, err := time.LoadLocation("America/New_York"); err == nil {
			h.loadedZone = z
		}
	})
	return h.loadedZone
}

// timeLayout is LastPass's timestamp (§1.3).
const timeLayout = "2006-01-02 15:04:05"

// stamp formats a time for answers; the zero time is "".
func (h *Handler) stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(h.zone()).Format(timeLayout)
}

// Owns reports whether r is a request for the dispatcher, whose body
// limit is its own (MaxBody) rather than the gateway's.
func Owns(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	p := r.URL.Path
	return p == Path || p == Path+"/" || p == "/"
}

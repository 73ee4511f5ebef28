package push

// This file authenticates device requests: signatures, clocks, nonces.

import (
	"bytes"
	"crypto/ed25519"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// maxBody bounds a device request's body; the largest, an enrolment, is a
// few hundred bytes.
const maxBody = 4 << 10

// deviceData is a push enrolment's store.Enrolment.Data. Nothing in it is
// secret: the private key never leaves the device.
type deviceData struct {
	PublicKey string `json:"public_key"` // Ed25519, base64url
	DeviceID  string `json:"device_id"`
}

// device is an authenticated device request's sender.
type device struct {
	id        string
	enrolment store.Enrolment
	user      store.User
}

// apiError is a device API failure: what the device is told, and the
// precise reason, for the log only.
type apiError struct {
	status int
	code   string
	msg    string
	reason string
}

func (e *apiError) Error() string { return e.code + ": " + e.reason }

var errUnauthorized = &apiError{status: http.StatusUnauthorized, code: CodeUnauthorized,
	msg: "device not recognised or request not validly signed (was the device removed?)"}

func unauthorized(reason string) *apiError {
	e := *errUnauthorized
	e.reason = reason
	return &e
}

func unavailable(err error) *apiError {
	return &apiError{status: http.StatusServiceUnavailable, code: CodeUnavailable,
		msg: "temporarily unavailable; try again shortly", reason: err.Error()}
}

func badRequest(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: CodeBadRequest, msg: msg, reason: msg}
}

// fail answers a device request with e.
func (f *Factor) fail(w http.ResponseWriter, r *http.Request, e *apiError) {
	level := slog.LevelInfo
	if e.status >= 500 {
		level = slog.LevelError
		w.Header().Set("Retry-After", "5")
	}
	f.logger().Log(r.Context(), level, "push device request refused", "path", r.URL.Path, "status", e.status,
		"code", e.code, "reason", e.reason, "request_id", web.RequestID(r.Context()))
	writeJSON(w, e.status, ErrorResponse{Code: e.code, Error: e.msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// readBody reads a bounded request body.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return nil, badRequest("request body too large or unreadable")
	}
	return body, nil
}

// decodeStrict parses a JSON body, refusing unknown fields and trailing
// data, so a malformed request changes nothing.
func decodeStrict(body []byte, v any) *apiError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil || dec.More() {
		return badRequest("malformed JSON body")
	}
	return nil
}

// signed checks the parts of a signed request that do not depend on who
// sent it: the timestamp is within the clock window, the nonce and the
// signature are well formed, and the signature verifies with pub. It
// returns the nonce.
func (f *Factor) signed(r *http.Request, pub ed25519.PublicKey, deviceID string, body []byte) (string, *apiError) {
	ts, err := strconv.ParseInt(r.Header.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return "", unauthorized("no or malformed timestamp")
	}
	skew := f.core.NowTime().Sub(time.Unix(ts, 0))
	if skew > f.opts.ClockWindow || skew < -f.opts.ClockWindow {
		return "", &apiError{status: http.StatusUnauthorized, code: CodeClockSkew,
			msg:    "request timestamp is " + skew.Round(time.Second).String() + " off the server's clock; check the device's time",
			reason: "timestamp outside the clock window"}
	}
	nonce := r.Header.Get(HeaderNonce)
	sig, err := decodeB64(r.Header.Get(HeaderSignature))
	if !validID(nonce) || err != nil || len(sig) != ed25519.SignatureSize {
		return "", unauthorized("malformed nonce or signature")
	}
	msg := SigningString(r.Method, r.URL.RequestURI(), ts, deviceID, nonce, body)
	if !ed25519.Verify(pub, msg, sig) {
		return "", unauthorized("signature does not verify")
	}
	return nonce, nil
}

// fresh claims the nonce, so that a captured request cannot be sent again
// within the clock window.
func (f *Factor) fresh(r *http.Request, scope, nonce string) *apiError {
	won, err := f.core.Replay.Claim(r.Context(), "push:nonce:"+scope+":"+nonce, 2*f.opts.ClockWindow+time.Minute)
	switch {
	case err != nil:
		return unavailable(err)
	case !won:
		return unauthorized("nonce replayed")
	}
	return nil
}

// authenticate verifies a signed request from an enrolled device: a known
// device ID (whose random part is compared in constant time), a fresh
// timestamp and nonce, a valid signature by the enrolment's key, an enabled
// user and a confirmed enrolment. The enrolment is read from the store on
// every request, so removing it takes effect at once.
func (f *Factor) authenticate(r *http.Request, body []byte) (*device, *apiError) {
	id := r.Header.Get(HeaderDevice)
	num, _, ok := strings.Cut(id, ".")
	eid, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || eid <= 0 || len(id) > 100 {
		return nil, unauthorized("malformed device id")
	}
	e, err := f.core.Store.Enrolment(r.Context(), eid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, unauthorized("unknown device " + id)
	}
	if err != nil {
		return nil, unavailable(err)
	}
	var d deviceData
	if e.Factor != f.Name() || json.Unmarshal(e.Data, &d) != nil ||
		subtle.ConstantTimeCompare([]byte(d.DeviceID), []byte(id)) != 1 {
		return nil, unauthorized("unknown device " + id)
	}
	pub, err := decodeB64(d.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, unauthorized("enrolment holds no valid key")
	}
	nonce, aerr := f.signed(r, pub, id, body)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := f.fresh(r, id, nonce); aerr != nil {
		return nil, aerr
	}
	u, err := f.core.Store.User(r.Context(), e.UserID)
	switch {
	case errors.Is(err, store.ErrNotFound) || err == nil && u.Disabled:
		return nil, unauthorized("user gone or disabled")
	case err != nil:
		return nil, unavailable(err)
	case !e.Confirmed:
		return nil, &apiError{status: http.StatusForbidden, code: CodeNotConfirmed,
			msg: "enrolment not finished: keep the browser page open until it moves on", reason: "enrolment not confirmed"}
	}
	return &device{id: id, enrolment: e, user: u}, nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func decodeB64(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

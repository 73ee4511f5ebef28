package webauthn

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/web"
)

// reply is the JSON answer of every POST endpoint.
type reply struct {
	// Ceremony and PublicKey answer a begin: the options for
	// navigator.credentials.create or get, binary members in base64url.
	Ceremony  string `json:"ceremony,omitempty"`
	PublicKey any    `json:"publicKey,omitempty"`
	// Redirect answers a successful finish: where the browser goes next.
	Redirect string `json:"redirect,omitempty"`
	// Error is what the page shows in its alert.
	Error string `json:"error,omitempty"`
}

// Messages the browser sees; the precise reason goes to the log and the
// audit trail only.
const (
	msgExpired     = "This request has expired or was already used. Try again."
	msgKeyRefused  = "That security key or passkey was not accepted. Try again, or use another one."
	msgPasskey     = "That passkey could not sign you in. Try again, or sign in with your email and password."
	msgResetFirst  = "Your account needs a new password. Sign in with your email and password to set one."
	msgUnavailable = "Verification is temporarily unavailable. Please try again in a moment."
)

func writeJSON(w http.ResponseWriter, status int, v reply) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // a reply of strings and options cannot fail
}

// unavailable answers 503 when a backend is down. Nobody is let through.
func (f *Factor) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	f.logger().ErrorContext(r.Context(), "backend unavailable", "err", err, "request_id", web.RequestID(r.Context()))
	w.Header().Set("Retry-After", "5")
	writeJSON(w, http.StatusServiceUnavailable, reply{Error: msgUnavailable})
}

// throttled answers 429 to a JSON request.
func throttled(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	writeJSON(w, http.StatusTooManyRequests, reply{
		Error: "Too many failed attempts. Try again in " + web.HumanDuration(wait) + "."})
}

func (f *Factor) logger() *slog.Logger {
	if f.core.Logger != nil {
		return f.core.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// complete records the factor as presented (the core's Complete: session
// rotated, audited) and answers the script with where to go next. When the
// core could not complete it has answered with a page, which the script
// reloads to show.
func (f *Factor) complete(w http.ResponseWriter, r *http.Request, a *mfa.Attempt, details map[string]string) {
	if target, ok := f.core.Complete(w, r, a, f.Name(), details); ok {
		writeJSON(w, http.StatusOK, reply{Redirect: target})
	}
}

// started stores the ceremony c and answers the script with its ID and the
// options for navigator.credentials (the begin endpoints' answer).
func (f *Factor) started(w http.ResponseWriter, r *http.Request, c ceremony, options any) {
	id, err := f.begin(r.Context(), c)
	if err != nil {
		f.unavailable(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, reply{Ceremony: id, PublicKey: options})
}

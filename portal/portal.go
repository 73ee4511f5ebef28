// Package portal owns the pages a person sees before and around the apps:
// sign-in (/login), sign-out (/logout), the forced password change
// (/password) and the portal (/) that shows who is signed in. It also owns
// Current, which every other browser flow uses (through an interface it
// declares itself) to learn who the request belongs to.
//
// Decisions:
//   - A wrong password, an unknown user, a disabled user and a user with no
//     password all get the same message and status (401), and all verify an
//     argon2id hash, so neither the page nor its timing tells them apart; the
//     audit event records the real reason.
//   - Failed logins are counted per user and per client IP (IPv6 per /64) in
//     the session backend; at the limit the page answers 429 with
//     Retry-After and says when to try again, without checking the password.
//   - Every authenticated request re-reads the user from the store, so a
//     disabled or deleted user is refused on the very next request even when
//     the change came from another process (the CLI) that could not reach an
//     in-memory session store.
//   - When the session backend is unreachable, any page that needs a session
//     answers 503; nobody is ever treated as signed in by default.
//   - GET /logout asks for confirmation and POST /logout signs out, so a
//     third-party page cannot sign a user out with an image tag.
//   - /login?prompt=login shows the form even to a signed-in user (SAML
//     ForceAuthn); signing in again replaces the session.
//   - Return targets are local paths only ("/x", never "//host" or a
//     scheme); other flows widen this through AllowReturn.
//
// portal is layer 2: it imports web, session, store, audit and password, and
// no other domain package.
package portal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/portcullis/portcullis/password"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// Handler serves the portal pages. Its fields are its dependencies.
type Handler struct {
	Store     store.Store
	Sessions  *session.Manager
	Render    *web.Renderer
	Hasher    *password.Hasher
	Throttle  *session.Throttle
	Logger    *slog.Logger
	Now       func() time.Time
	MinLength int // shortest new password accepted
	// CSRF wraps every form route.
	CSRF func(http.Handler) http.Handler
	// AllowReturn, if set, accepts return targets beyond local paths (for
	// example the hosts of forward-auth rules).
	AllowReturn func(target string) bool
	// SingleLogout, if set, is called after a session that signed in to
	// apps has ended, to log it out of those apps (SAML single logout). It
	// writes the response and returns true, or returns false to let the
	// portal show its own signed-out page.
	SingleLogout func(w http.ResponseWriter, r *http.Request, s *session.Session) bool
	// Apps, if set, lists the apps the user may open from the portal.
	Apps func(ctx context.Context, u store.User) ([]web.App, error)
	// IdPs, if set, lists the upstream IdPs to sign in with, each with the
	// local URL that starts it and comes back to ret (force: the IdP must
	// authenticate again).
	IdPs func(ctx context.Context, ret string, force bool) ([]web.LoginIdP, error)
	// NoPassword turns password sign-in off (login.password_form: false):
	// the form is hidden and POST /login refuses every attempt.
	NoPassword bool
	// Logins counts login attempts by outcome.
	Logins func(outcome string)
}

// Mount registers the portal routes on mux.
func (h *Handler) Mount(mux *http.ServeMux) {
	csrf := h.CSRF
	if csrf == nil {
		csrf = func(next http.Handler) http.Handler { return next }
	}
	mux.Handle("GET /{$}", csrf(http.HandlerFunc(h.home)))
	mux.Handle("GET /login", csrf(http.HandlerFunc(h.loginPage)))
	mux.Handle("POST /login", csrf(http.HandlerFunc(h.login)))
	mux.Handle("GET /logout", csrf(http.HandlerFunc(h.logoutPage)))
	mux.Handle("POST /logout", csrf(http.HandlerFunc(h.logout)))
	mux.Handle("GET /password", csrf(http.HandlerFunc(h.passwordPage)))
	mux.Handle("POST /password", csrf(http.HandlerFunc(h.changePassword)))
}

// ErrNoSession means the request is not signed in (no session, an expired
// one, or its user is gone or disabled). It wraps session.ErrNotFound, so
// flows that cannot import portal test for that.
var ErrNoSession = fmt.Errorf("portal: not signed in: %w", session.ErrNotFound)

// Current returns the request's session and its user. It returns
// ErrNoSession when there is none, and an error wrapping
// session.ErrUnavailable or store.ErrUnavailable when a backend is down.
func (h *Handler) Current(r *http.Request) (*session.Session, store.User, error) {
	s, err := h.Sessions.Load(r)
	if errors.Is(err, session.ErrNotFound) {
		return nil, store.User{}, ErrNoSession
	}
	if err != nil {
		return nil, store.User{}, err
	}
	u, err := h.Store.User(r.Context(), s.UserID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		return nil, store.User{}, ErrNoSession
	}
	if err != nil {
		return nil, store.User{}, fmt.Errorf("portal: user of session: %w", err)
	}
	return s, u, nil
}

// now returns the handler's clock.
func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// unavailable answers 503 when a backend is down, logging the cause.
func (h *Handler) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	h.Logger.ErrorContext(r.Context(), "backend unavailable", "err", err, "request_id", web.RequestID(r.Context()))
	w.Header().Set("Retry-After", "5")
	h.Render.Error(w, r, http.StatusServiceUnavailable, "Temporarily unavailable",
		"Sign-in is temporarily unavailable. Please try again in a moment.")
}

func (h *Handler) countLogin(outcome string) {
	if h.Logins != nil {
		h.Logins(outcome)
	}
}

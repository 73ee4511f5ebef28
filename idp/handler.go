package idp

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// Paths the IdP serves (DESIGN.md §4), relative to BaseURL.
const (
	MetadataPath = "/saml/metadata"
	SSOPath      = "/saml/sso"
	ResumePath   = "/saml/sso/resume"
	SLOPath      = "/saml/slo"
)

// Defaults for the zero values of Handler's durations (config.Defaults
// uses the same).
const (
	DefaultAssertionLifetime = 5 * time.Minute
	DefaultClockSkew         = 3 * time.Minute
	// ParkTTL is how long a request waits for the user to sign in.
	ParkTTL = 10 * time.Minute
	// SLOTTL is how long a single logout may take from start to finish.
	SLOTTL = 15 * time.Minute
	// BackChannelTimeout bounds each SOAP LogoutRequest to an app.
	BackChannelTimeout = 5 * time.Second
)

// Handler is the SAML identity provider. Its fields are its dependencies;
// set them, then call Mount. A Handler is safe for concurrent use.
type Handler struct {
	Store    store.Store
	Sessions *session.Manager
	// Current returns the request's session and user; its error wraps
	// session.ErrNotFound when nobody is signed in (portal.Handler.Current).
	Current func(*http.Request) (*session.Session, store.User, error)
	// Keys gives the signing key and the certificates to publish, read on
	// every request so that a rotation is seen at once.
	Keys keys.Source
	// Replay holds parked requests, the replay cache and single-logout
	// progress: the session backend, shared by every node.
	Replay session.Store
	Render *web.Renderer
	Logger *slog.Logger
	Now    func() time.Time
	// BaseURL is the gateway's external URL; EntityID defaults to
	// BaseURL + MetadataPath.
	BaseURL  string
	EntityID string
	// SignMetadata publishes metadata with an enveloped signature.
	SignMetadata bool
	// WantAuthnRequestsSigned refuses unsigned AuthnRequests from every app.
	WantAuthnRequestsSigned bool
	// AssertionLifetime bounds Conditions/@NotOnOrAfter; ClockSkew is how
	// far a request's IssueInstant may be from our clock, either way.
	AssertionLifetime time.Duration
	ClockSkew         time.Duration
	// PseudonymKey keys persistent NameIDs: base64url(HMAC-SHA256(key,
	// "appID|userID")). Changing it changes every persistent NameID.
	PseudonymKey []byte
	// StepUp, if set, is asked before an assertion is made whether the
	// session is strong enough for the app (its MFA policy). It returns
	// true when it has answered the request itself, typically with a
	// redirect to the MFA pages that returns to StepUpRequest.Resume.
	StepUp func(w http.ResponseWriter, r *http.Request, req StepUpRequest) bool
	// UpstreamLogout, if set, is the last hop of a single logout whose
	// session signed in through an upstream IdP (package sp): given the
	// ended session's "upstream." values, it sends the browser to log out
	// there and back to the path back, or returns false having written
	// nothing.
	UpstreamLogout func(w http.ResponseWriter, r *http.Request, values map[string]string, back string) bool
	// HTTPClient sends back-channel (SOAP) LogoutRequests; nil means a
	// client with BackChannelTimeout that follows no redirects.
	HTTPClient *http.Client

	apps appCache
}

// StepUpRequest is what the StepUp seam is given.
type StepUpRequest struct {
	App     store.App
	User    store.User
	Session *session.Session
	// Requirement is the app's MFA policy (mode, factors, max age) raised
	// by the request: a RequestedAuthnContext that only MFA meets makes it
	// required, and ForceAuthn demands a factor presented after the
	// request arrived (see the package doc).
	Requirement policy.Requirement
	// Resume returns the local path that answers the request once the
	// step-up is done (the request is parked on first call).
	Resume func() (string, error)
}

// Mount registers the IdP routes on mux. None of them takes a CSRF token:
// SAML messages are protected by signatures, request IDs and the replay
// cache (DESIGN.md §6).
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET "+MetadataPath, h.metadata)
	mux.HandleFunc("GET "+SSOPath, h.sso)
	mux.HandleFunc("POST "+SSOPath, h.sso)
	mux.HandleFunc("GET "+ResumePath, h.resume)
	mux.HandleFunc("GET "+SLOPath, h.slo)
	mux.HandleFunc("POST "+SLOPath, h.slo)
	mux.HandleFunc("GET /saml/apps/{name}/launch", h.launch)
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (h *Handler) lifetime() time.Duration {
	if h.AssertionLifetime > 0 {
		return h.AssertionLifetime
	}
	return DefaultAssertionLifetime
}

func (h *Handler) skew() time.Duration {
	if h.ClockSkew > 0 {
		return h.ClockSkew
	}
	return DefaultClockSkew
}

// url returns BaseURL + path as a URL.
func (h *Handler) url(path string) url.URL {
	u, err := url.Parse(strings.TrimSuffix(h.BaseURL, "/") + path)
	if err != nil {
		return url.URL{Path: path}
	}
	return *u
}

// entityURL is the entity ID as crewjam/saml wants it (its MetadataURL,
// which it publishes as entityID); a URN parses as an opaque URL and
// prints back unchanged.
func (h *Handler) entityURL() url.URL {
	if h.EntityID == "" {
		return h.url(MetadataPath)
	}
	u, err := url.Parse(h.EntityID)
	if err != nil {
		return url.URL{Opaque: h.EntityID}
	}
	return *u
}

// unavailable answers 503 when a backend is down: never an assertion.
func (h *Handler) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	h.logger().ErrorContext(r.Context(), "saml: backend unavailable", "err", err,
		"request_id", web.RequestID(r.Context()))
	w.Header().Set("Retry-After", "5")
	h.Render.Error(w, r, http.StatusServiceUnavailable, "Temporarily unavailable",
		"Signing in to the app is temporarily unavailable. Please try again in a moment.")
}

// bg is a context for crewjam/saml callbacks that carry none.
func bg() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 5*time.Second)
}

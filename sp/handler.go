package sp

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// Paths of the SP (DESIGN.md §4).
const (
	MetadataPath = "/saml/sp/metadata"
	LoginPath    = "/saml/sp/login"
	ACSPath      = "/saml/sp/acs"
	SLOPath      = "/saml/sp/slo"
)

// RequestTTL is how long an AuthnRequest or LogoutRequest we sent waits for
// its answer.
const RequestTTL = 10 * time.Minute

// DefaultClockSkew is the skew allowed when Handler.ClockSkew is zero.
const DefaultClockSkew = 3 * time.Minute

// Session values an upstream login leaves, read back for single logout.
const (
	ValueIdP          = "upstream.idp"
	ValueNameID       = "upstream.name_id"
	ValueNameIDFormat = "upstream.name_id_format"
	ValueSessionIndex = "upstream.session_index"
	ValueUser         = "upstream.user" // our user's email, for the logout's audit event
)

// Handler serves the SP endpoints. Its fields are its dependencies.
type Handler struct {
	Store    store.Store
	Sessions *session.Manager
	// Keys are the gateway's signing keys, shared with the IdP: the active
	// one signs our AuthnRequests and LogoutRequests and decrypts
	// assertions; every published certificate is in our metadata.
	Keys    keys.Source
	Render  *web.Renderer
	Logger  *slog.Logger
	Now     func() time.Time
	BaseURL string
	// EntityID is our SP entity ID; empty means BaseURL + MetadataPath.
	EntityID string
	// ClockSkew is allowed on every time in an upstream message.
	ClockSkew time.Duration
	// AllowReturn, if set, accepts return targets beyond local paths, as
	// the portal's does (forward-auth hosts).
	AllowReturn func(target string) bool
	// AppsLogout, if set, logs the session out of the apps it signed in to
	// (SAML single logout) once an upstream LogoutRequest has ended it,
	// then sends the browser to then. It returns false, having written
	// nothing, when there is no app to log out of.
	AppsLogout func(w http.ResponseWriter, r *http.Request, s *session.Session, then string) bool
	// Logins counts upstream logins by outcome ("success", "denied").
	Logins func(outcome string)

	cache upstreamCache
}

// Mount registers the SP routes. None takes a CSRF token: the messages are
// signed and tied to requests we sent (DESIGN.md §6).
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET "+MetadataPath, h.metadata)
	mux.HandleFunc("GET "+LoginPath, h.login)
	mux.HandleFunc("POST "+ACSPath, h.acs)
	mux.HandleFunc("GET "+SLOPath, h.slo)
	mux.HandleFunc("POST "+SLOPath, h.slo)
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

func (h *Handler) skew() time.Duration {
	if h.ClockSkew > 0 {
		return h.ClockSkew
	}
	return DefaultClockSkew
}

func (h *Handler) replay() session.Store { return h.Sessions.Store() }

// url returns BaseURL + path.
func (h *Handler) url(path string) url.URL {
	u, err := url.Parse(strings.TrimSuffix(h.BaseURL, "/") + path)
	if err != nil {
		return url.URL{Path: path}
	}
	return *u
}

func (h *Handler) entityID() string {
	if h.EntityID != "" {
		return h.EntityID
	}
	u := h.url(MetadataPath)
	return u.String()
}

func (h *Handler) acsURL() string {
	u := h.url(ACSPath)
	return u.String()
}

// secure reports an https base URL: cookies are then Secure and, since
// IdPs answer with cross-site POSTs, SameSite=None.
func (h *Handler) secure() bool { u := h.url("/"); return u.Scheme == "https" }

// cookie is one of the SP's own cookies, scoped to its paths.
func (h *Handler) cookie(name, value string, maxAge int) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: "/saml/sp/", MaxAge: maxAge,
		HttpOnly: true, Secure: h.secure(), SameSite: http.SameSiteLaxMode}
	if c.Secure {
		c.SameSite = http.SameSiteNoneMode
	}
	return c
}

// returnTarget is target when it is a safe place to send the browser, "/"
// otherwise (the portal's rule).
func (h *Handler) returnTarget(target string) string {
	if web.LocalPath(target) || (target != "" && h.AllowReturn != nil && h.AllowReturn(target)) {
		return target
	}
	return "/"
}

// unavailable answers 503 when a backend is down: never a session.
func (h *Handler) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	h.logger().ErrorContext(r.Context(), "saml sp: backend unavailable", "err", err,
		"request_id", web.RequestID(r.Context()))
	w.Header().Set("Retry-After", "5")
	h.Render.Error(w, r, http.StatusServiceUnavailable, "Temporarily unavailable",
		"Sign-in is temporarily unavailable. Please try again in a moment.")
}

// isUnavailable reports a backend failure, as opposed to a refusal.
func isUnavailable(err error) bool {
	return errors.Is(err, session.ErrUnavailable) || errors.Is(err, store.ErrUnavailable)
}

// keySet returns our active signing key and every published certificate.
func (h *Handler) keySet(ctx context.Context) (*rsa.PrivateKey, *x509.Certificate, []*x509.Certificate, error) {
	if h.Keys == nil {
		return nil, nil, nil, errors.New("sp: no key source")
	}
	set, err := h.Keys.SigningKeys(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("sp: signing keys: %w", err)
	}
	if set.Active == nil || set.Active.Key == nil || set.Active.Cert == nil {
		return nil, nil, nil, errors.New("sp: no active signing key")
	}
	return set.Active.Key, set.Active.Cert, set.Published, nil
}

// serviceProvider is crewjam's ServiceProvider towards u for one request:
// it makes and signs our AuthnRequests and LogoutRequests and validates
// logout messages. Responses to our AuthnRequests are validated by
// ParseResponse, not by crewjam. With u nil it serves our metadata.
func (h *Handler) serviceProvider(ctx context.Context, u *upstreamIdP) (*saml.ServiceProvider, []*x509.Certificate, error) {
	key, cert, published, err := h.keySet(ctx)
	if err != nil {
		return nil, nil, err
	}
	sp := &saml.ServiceProvider{
		EntityID: h.entityID(), Key: key, Certificate: cert,
		MetadataURL: h.url(MetadataPath), AcsURL: h.url(ACSPath), SloURL: h.url(SLOPath),
		SignatureMethod:                  dsig.RSASHA256SignatureMethod,
		AuthnNameIDFormat:                saml.UnspecifiedNameIDFormat,
		LogoutBindings:                   []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding},
		AssertionConsumerServiceBindings: []string{saml.HTTPPostBinding},
		RejectSHA1Signatures:             true,
		Clock:                            keys.DSigClock(h.now),
	}
	if u != nil {
		sp.IDPMetadata = u.descriptor
	}
	return sp, published, nil
}

// upstreamIdP is a registered IdP with its metadata and settings read.
type upstreamIdP struct {
	store.IdP
	meta       Upstream
	Settings   Settings
	descriptor *saml.EntityDescriptor
}

// upstreamCache keeps each IdP's parsed metadata until the stored row
// changes (UpdatedAt), so a login does not parse XML and certificates.
type upstreamCache struct {
	mu     sync.Mutex
	parsed map[int64]*upstreamIdP
}

// upstream returns p read, from the cache when p has not changed.
func (h *Handler) upstream(p store.IdP) (*upstreamIdP, error) {
	c := &h.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if u, ok := c.parsed[p.ID]; ok && u.UpdatedAt.Equal(p.UpdatedAt) && u.Metadata == p.Metadata {
		return u, nil
	}
	up, ed, err := parseMetadata([]byte(p.Metadata))
	if err != nil {
		return nil, fmt.Errorf("sp: idp %s: %w", p.Name, err)
	}
	s, err := ParseSettings(p.Settings)
	if err != nil {
		return nil, fmt.Errorf("sp: idp %s: %w", p.Name, err)
	}
	u := &upstreamIdP{IdP: p, meta: up, Settings: s, descriptor: ed}
	if c.parsed == nil {
		c.parsed = map[int64]*upstreamIdP{}
	}
	c.parsed[p.ID] = u
	return u, nil
}

// byName returns the IdP registered under name, or store.ErrNotFound.
func (h *Handler) byName(ctx context.Context, name string) (*upstreamIdP, error) {
	p, err := h.Store.IdPByName(ctx, name)
	if err != nil {
		return nil, err
	}
	return h.upstream(p)
}

// byEntityID returns the IdP with that entity ID, or store.ErrNotFound.
func (h *Handler) byEntityID(ctx context.Context, entityID string) (*upstreamIdP, error) {
	if entityID == "" {
		return nil, store.ErrNotFound
	}
	p, err := h.Store.IdPByEntityID(ctx, entityID)
	if err != nil {
		return nil, err
	}
	return h.upstream(p)
}

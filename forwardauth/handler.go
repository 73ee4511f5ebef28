package forwardauth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// Paths.
const (
	RequestPath = "/auth/request" // nginx auth_request
	ForwardPath = "/auth/forward" // Traefik ForwardAuth, Caddy forward_auth
	EnvoyPrefix = "/auth/envoy"   // Envoy ext_authz HTTP service (path_prefix)
	StartPath   = "/auth/start"   // the browser's way in: sign in and step up for ?rd=URL
)

// IsCheck reports whether path is one of the endpoints a reverse proxy
// asks (RequestPath, ForwardPath, EnvoyPrefix): their 200 answers go to the
// proxy alone, never to a browser, and carry no browser security headers
// (web.SecurityHeadersUnlessOK).
func IsCheck(path string) bool {
	return path == RequestPath || path == ForwardPath || path == EnvoyPrefix || strings.HasPrefix(path, EnvoyPrefix+"/")
}

// MFA is what forward-auth needs of the step-up pipeline (mfa.Handler):
// what the policy knows of a user and session (Subject), its answer for a
// requirement (Judge), and where to step up.
type MFA interface {
	Subject(ctx context.Context, u store.User, s *session.Session) (policy.Subject, error)
	Judge(sub policy.Subject, req policy.Requirement) policy.Decision
	StepUpURL(u store.User, req policy.Requirement, d policy.Decision, app, ret string) (string, error)
}

// Handler answers the forward-auth endpoints. Its fields are its
// dependencies.
type Handler struct {
	Store store.Store
	// Current returns the request's session and user, an error wrapping
	// session.ErrNotFound when there is none (or the user is disabled or
	// gone), or one wrapping ErrUnavailable (portal.Handler.Current).
	Current func(r *http.Request) (*session.Session, store.User, error)
	MFA     MFA
	// Memo, when set, answers rules for recently seen sessions from memory
	// (see Memo).
	Memo    *Memo
	Rules   *Rules
	Headers config.IdentityHeaders
	// BaseURL is the gateway's external URL, where browsers sign in.
	BaseURL string
	Render  *web.Renderer
	Logger  *slog.Logger
}

// Mount registers the endpoints. None takes a CSRF token: the proxy
// endpoints change nothing, and /auth/start only redirects.
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET "+RequestPath, h.nginx)
	mux.HandleFunc("HEAD "+RequestPath, h.nginx)
	mux.HandleFunc("GET "+ForwardPath, h.forward)
	mux.HandleFunc("HEAD "+ForwardPath, h.forward)
	mux.HandleFunc(EnvoyPrefix+"/", h.envoy)
	mux.HandleFunc(EnvoyPrefix, h.envoy)
	mux.HandleFunc("GET "+StartPath, h.start)
}

// Kinds of answer.
type kind int

const (
	allow kind = iota
	signIn
	stepUp
	deny
	unavailable
)

// verdict is the decision about one target.
type verdict struct {
	kind   kind
	user   store.User
	groups []string
	rule   Rule
	// stepUp is the local URL of the step-up, for kind stepUp.
	stepUp string
	reason string
	err    error
}

const passwordChange = "password change required"

// decide runs the rules for t against the request's session.
func (h *Handler) decide(r *http.Request, t Target) verdict {
	rule := h.Rules.Match(t.Method, t.Host(), t.URL.Path)
	switch rule.Policy {
	case Bypass:
		return verdict{kind: allow, rule: rule}
	case Deny:
		return verdict{kind: deny, rule: rule, reason: "the rule denies"}
	}
	twoFactor := rule.Policy != OneFactor
	var gen uint64
	if h.Memo != nil {
		e, g, ok := h.Memo.lookup(r, twoFactor)
		if ok {
			return h.judge(t, rule, e.user, e.sub)
		}
		gen = g
	}
	s, u, refused := h.signedIn(r, rule)
	if refused != nil {
		return *refused
	}
	sub, err := h.subject(r.Context(), u, s, twoFactor)
	if err != nil {
		return verdict{kind: unavailable, rule: rule, err: err}
	}
	if h.Memo != nil {
		h.Memo.fill(r, gen, s, u, sub, twoFactor)
	}
	return h.judge(t, rule, u, sub)
}

// signedIn returns the request's session and user, or the verdict when it
// has none that may pass: sign in (no session, a disabled or deleted user,
// a password to change) or unavailable.
func (h *Handler) signedIn(r *http.Request, rule Rule) (*session.Session, store.User, *verdict) {
	s, u, err := h.Current(r)
	switch {
	case errors.Is(err, session.ErrNotFound):
		return nil, u, &verdict{kind: signIn, rule: rule}
	case err != nil:
		return nil, u, &verdict{kind: unavailable, rule: rule, err: err}
	case u.PasswordResetRequired:
		return nil, u, &verdict{kind: signIn, rule: rule, reason: passwordChange}
	}
	return s, u, nil
}

// subject reads what a rule is judged on: the user's groups and the
// session's factors, and for two factors the user's enrolled factors,
// which a one_factor rule does without.
func (h *Handler) subject(ctx context.Context, u store.User, s *session.Session, twoFactor bool) (policy.Subject, error) {
	if twoFactor {
		return h.MFA.Subject(ctx, u, s)
	}
	gs, err := h.Store.UserGroups(ctx, u.ID)
	if err != nil {
		return policy.Subject{}, err
	}
	return policy.Subject{Groups: groupNames(gs)}, nil
}

// judge decides rule for the signed-in user u, of whom sub is known.
func (h *Handler) judge(t Target, rule Rule, u store.User, sub policy.Subject) verdict {
	if rule.Policy == OneFactor {
		if len(rule.Groups) > 0 && !slices.ContainsFunc(rule.Groups, func(g string) bool { return slices.Contains(sub.Groups, g) }) {
			return verdict{kind: deny, rule: rule, user: u, reason: "not in a required group"}
		}
		return verdict{kind: allow, rule: rule, user: u, groups: sub.Groups}
	}
	req := policy.Requirement{Mode: policy.Required, MaxAge: rule.MaxMFAAge, Groups: rule.Groups}
	d := h.MFA.Judge(sub, req)
	switch d.Outcome {
	case policy.Allow:
		return verdict{kind: allow, rule: rule, user: u, groups: sub.Groups}
	case policy.Deny:
		return verdict{kind: deny, rule: rule, user: u, reason: d.Reason}
	}
	to, err := h.MFA.StepUpURL(u, req, d, t.Host(), t.URL.String())
	if err != nil {
		return verdict{kind: deny, rule: rule, user: u, reason: err.Error()}
	}
	return verdict{kind: stepUp, rule: rule, user: u, stepUp: to, reason: d.Reason}
}

func groupNames(gs []store.Group) []string {
	names := make([]string, 0, len(gs))
	for _, g := range gs {
		names = append(names, g.Name)
	}
	return names
}

// setIdentity writes the identity headers of an allowed request. Values
// are stripped of control characters, so a name cannot add a header.
func (h *Handler) setIdentity(hd http.Header, v verdict) {
	if v.user.ID == 0 {
		return
	}
	email := clean(v.user.Email)
	// One array for the four values: a header's value is a slice of it.
	vals := [...]string{email, email, clean(v.user.Name), clean(strings.Join(v.groups, ","))}
	for i, name := range []string{h.Headers.User, h.Headers.Email, h.Headers.Name, h.Headers.Groups} {
		hd[http.CanonicalHeaderKey(name)] = vals[i : i+1 : i+1]
	}
}

// answerIdentity writes the identity headers into an answer to a proxy. A
// bypassed request gets them empty rather than absent, so that proxies which
// copy them by name overwrite what the client sent: when the answer lacks
// one, Envoy's allowed_upstream_headers keeps the client's value and Caddy
// before 2.9 sends its unreplaced placeholder ({http.reverse_proxy.header.…},
// caddyserver/caddy#6610). nginx sends no header for an empty value.
func (h *Handler) answerIdentity(hd http.Header, v verdict) {
	if v.user.ID != 0 {
		h.setIdentity(hd, v)
		return
	}
	for _, name := range []string{h.Headers.User, h.Headers.Email, h.Headers.Name, h.Headers.Groups} {
		hd[http.CanonicalHeaderKey(name)] = []string{""}
	}
}

func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// StartURL is where a browser that must sign in or step up for target goes.
func (h *Handler) StartURL(target string) string {
	return strings.TrimRight(h.BaseURL, "/") + StartPath + "?rd=" + url.QueryEscape(target)
}

// AllowReturn reports whether target is an absolute http(s) URL on a host
// the rules name: the return targets sign-in and step-up accept besides
// local paths.
func (h *Handler) AllowReturn(target string) bool {
	t, err := parseTarget(http.MethodGet, target)
	return err == nil && h.Rules.Covers(t.Host())
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (h *Handler) log(r *http.Request, dialect string, t Target, v verdict) {
	if v.kind == unavailable {
		h.logger().ErrorContext(r.Context(), "forward-auth: backend unavailable", "err", v.err,
			"request_id", web.RequestID(r.Context()))
		return
	}
	if v.kind == deny || v.reason != "" {
		h.logger().InfoContext(r.Context(), "forward-auth", "dialect", dialect, "target", t.URL.String(),
			"method", t.Method, "rule", v.rule.Index, "policy", v.rule.Policy, "user", v.user.Email,
			"outcome", []string{"allow", "sign-in", "step-up", "deny", "unavailable"}[v.kind], "reason", v.reason)
	}
}

// badRequest answers 400 with the reason in plain text: the caller is a
// proxy, or an operator reading its logs.
func (h *Handler) badRequest(w http.ResponseWriter, r *http.Request, err error) {
	h.logger().WarnContext(r.Context(), "forward-auth: bad request", "err", err, "peer", r.RemoteAddr)
	http.Error(w, err.Error(), http.StatusBadRequest)
}

// nginx is GET /auth/request: 200 with identity headers, 401 to sign in or
// step up, 403, 503. The 401 carries StartURL as Location, which nginx
// takes with auth_request_set into its error_page: nginx cannot
// percent-encode the original URL itself, and a raw URL in rd= loses any
// query with "&", "+" or "%".
func (h *Handler) nginx(w http.ResponseWriter, r *http.Request) {
	t, err := fromNginx(r)
	if err != nil {
		h.badRequest(w, r, err)
		return
	}
	h.answer(w, r, "nginx", t, http.StatusUnauthorized)
}

// forward is GET /auth/forward: 200 with identity headers, 302 to
// StartURL (Caddy passes a 401 through, so the redirect must come from
// us), 403, 503.
func (h *Handler) forward(w http.ResponseWriter, r *http.Request) {
	t, err := fromForwarded(r)
	if err != nil {
		h.badRequest(w, r, err)
		return
	}
	h.answer(w, r, "forward", t, http.StatusFound)
}

// envoy serves Envoy's ext_authz HTTP service under EnvoyPrefix: every
// method, the original path after the prefix.
func (h *Handler) envoy(w http.ResponseWriter, r *http.Request) {
	t, err := fromEnvoy(r, EnvoyPrefix)
	if err != nil {
		h.badRequest(w, r, err)
		return
	}
	h.answer(w, r, "envoy", t, http.StatusFound)
}

// answer decides about t and answers the proxy: 200 with the identity
// headers, signInStatus (with Location: StartURL) when the browser must sign in or
// step up, 403, or 503.
func (h *Handler) answer(w http.ResponseWriter, r *http.Request, dialect string, t Target, signInStatus int) {
	v := h.decide(r, t)
	h.log(r, dialect, t, v)
	noStore(w)
	switch v.kind {
	case allow:
		h.answerIdentity(w.Header(), v)
		w.WriteHeader(http.StatusOK)
	case signIn, stepUp:
		w.Header().Set("Location", h.StartURL(t.URL.String()))
		w.WriteHeader(signInStatus)
	case deny:
		w.WriteHeader(http.StatusForbidden)
	default:
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(http.StatusServiceUnavailable)
	}
}

// start is GET /auth/start?rd=URL, the browser's way in for a protected
// URL: sign in first if needed (returning here), step up if the rule asks
// for a second factor, then go to URL. rd must be on a host the rules name.
func (h *Handler) start(w http.ResponseWriter, r *http.Request) {
	rd := r.URL.Query().Get("rd")
	t, err := parseTarget(http.MethodGet, rd)
	if err != nil || !h.Rules.Covers(t.Host()) {
		h.Render.Error(w, r, http.StatusBadRequest, "Unknown destination",
			"The address you were sent to is not one Portcullis protects.")
		return
	}
	v := h.decide(r, t)
	h.log(r, "start", t, v)
	switch v.kind {
	case allow:
		http.Redirect(w, r, t.URL.String(), http.StatusSeeOther)
	case signIn:
		page := "/login"
		if v.reason == passwordChange {
			page = "/password"
		}
		http.Redirect(w, r, page+"?return="+url.QueryEscape(StartPath+"?rd="+url.QueryEscape(t.URL.String())), http.StatusSeeOther)
	case stepUp:
		http.Redirect(w, r, v.stepUp, http.StatusSeeOther)
	case deny:
		h.Render.Error(w, r, http.StatusForbidden, "Access refused", "Your account may not open "+t.Host()+".")
	default:
		w.Header().Set("Retry-After", "5")
		h.Render.Error(w, r, http.StatusServiceUnavailable, "Temporarily unavailable",
			"Sign-in is temporarily unavailable. Please try again in a moment.")
	}
}

func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }

package forwardauth

// Built-in reverse proxy: decisions.
//
//   - Routing: a request whose Host, without its port and in any case, is an
//     upstream's host goes to the proxy; every other request reaches the
//     gateway's own routes as before. Config validation keeps base_url's
//     host out of the upstreams, so the gateway's pages stay reachable.
//   - The request is judged by the same rules as /auth/request and
//     /auth/forward (decide), with the target built from the request itself:
//     the scheme is base_url's, or the first X-Forwarded-Proto when the
//     connection comes from trusted_proxies; the host is Host as sent (port
//     kept); the method and request-URI as received. A malformed target
//     answers 400, and so does a path with "." or ".." segments, an empty
//     segment ("//") or a backslash: browsers never send those, and an app
//     that resolves them could serve a path another rule protects.
//   - allow: httputil.ReverseProxy with a Rewrite hook sends the request on.
//     Every client-sent identity header is removed first: the four
//     configured names and any header starting with "Remote-", compared
//     case-insensitively and with "_" taken as "-" (CGI, PHP and WSGI turn
//     both into HTTP_REMOTE_USER), all values. Then the gateway's identity
//     headers are added (none for a bypass rule).
//   - The Host header stays the one the browser sent, as nginx's
//     `proxy_set_header Host $host`: apps build their links and check
//     origins from it. The upstream URL only says where to connect (its
//     path, if any, is prefixed to the request's).
//   - X-Forwarded-For is the connection's peer (the client, or a trusted
//     proxy after the chain it sent); a chain from anyone else is dropped,
//     as is a client's Forwarded header. X-Forwarded-Host is Host,
//     X-Forwarded-Proto the target's scheme, X-Real-IP the client address
//     the gateway resolved. The request id goes up in X-Request-ID, and the
//     gateway's id is the one the browser gets back.
//   - The gateway's session cookie (sessions.cookie_name) is removed from
//     Cookie before proxying: with sessions.cookie_domain it reaches app
//     hosts, and an app, or its logs, has no use for a credential to the
//     gateway. Other cookies pass unchanged. The CSRF cookie is host-only on
//     base_url's host, so a browser never sends it to an app host.
//   - sign-in and step-up: GET and HEAD answer 302 to /auth/start with the
//     original URL; any other method answers 401, since a browser cannot
//     replay a POST (or PUT, DELETE…) after signing in.
//   - deny answers 403, a backend failure 503 with Retry-After: never
//     proxied. These answers, and 502, are the gateway's pages with its
//     security headers and Cache-Control: no-store; proxied responses carry
//     the app's own headers, not the gateway's Content-Security-Policy.
//   - WebSocket and other upgrades are passed through by ReverseProxy
//     (net/http clears the connection deadlines on hijack, so
//     ReadTimeout does not cut them). Responses stream: ReverseProxy
//     flushes text/event-stream and bodies of unknown length at once, so
//     FlushInterval stays 0 and known-length bodies go out buffered.
//   - An unreachable upstream answers 502 and is logged at error level
//     (debug when the browser went away). Request bodies are not bounded by
//     max_body_bytes, which is for the gateway's own forms: the app sets
//     its own limits.
//   - Upstream connections ignore HTTP_PROXY and the like: upstream URLs are
//     addresses the gateway reaches directly.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/web"
)

// ProxyConfig is what NewProxy needs besides the forward-auth handler.
type ProxyConfig struct {
	Upstreams []config.Upstream
	// SessionCookie is the name of the gateway's session cookie, which is
	// removed from proxied requests.
	SessionCookie string
	// Pages wraps the answers the proxy writes itself (redirects, 4xx and
	// 5xx pages), e.g. with web.SecurityHeaders. Nil: none.
	Pages func(http.Handler) http.Handler
	// Transport carries requests to the upstreams. Nil: a clone of
	// http.DefaultTransport without environment proxies.
	Transport http.RoundTripper
}

// Proxy is the built-in reverse proxy: it authenticates each request for an
// upstream's host as the forward-auth endpoints do, then proxies it with
// the user's identity headers.
type Proxy struct {
	auth   *Handler
	scheme string // of targets not from a trusted proxy: base_url's
	cookie string
	pages  func(http.Handler) http.Handler
	routes map[string]*httputil.ReverseProxy // by lower-case host
}

// NewProxy builds the proxy for c.Upstreams, deciding with h.
func NewProxy(h *Handler, c ProxyConfig) (*Proxy, error) {
	base, err := url.Parse(h.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") {
		return nil, fmt.Errorf("forwardauth: base URL %q is not an absolute http(s) URL", h.BaseURL)
	}
	p := &Proxy{auth: h, scheme: base.Scheme, cookie: c.SessionCookie, pages: c.Pages,
		routes: make(map[string]*httputil.ReverseProxy, len(c.Upstreams))}
	if p.pages == nil {
		p.pages = func(next http.Handler) http.Handler { return next }
	}
	tr := c.Transport
	if tr == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = nil
		tr = t
	}
	for i, up := range c.Upstreams {
		u, err := url.Parse(up.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("forwardauth: upstreams[%d].url %q is not an absolute http(s) URL", i, up.URL)
		}
		p.routes[strings.ToLower(up.Host)] = &httputil.ReverseProxy{
			Rewrite:        p.rewrite(u),
			Transport:      tr,
			ModifyResponse: dropRequestID,
			ErrorHandler:   p.upstreamError,
			ErrorLog:       slog.NewLogLogger(h.logger().Handler(), slog.LevelWarn),
		}
	}
	return p, nil
}

// Serves reports whether r is for an upstream's host, and which.
func (p *Proxy) Serves(r *http.Request) (string, bool) {
	host := hostOnly(r.Host)
	_, ok := p.routes[host]
	return host, ok
}

func hostOnly(hostport string) string {
	h, _, err := net.SplitHostPort(hostport)
	if err != nil {
		h = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
	}
	return strings.ToLower(h)
}

// grantKey carries the allowed verdict from ServeHTTP to the Rewrite hook.
type grantKey struct{}

type grant struct {
	v      verdict
	scheme string
}

// ServeHTTP decides r and proxies it, or answers it, as the decisions at
// the top of this file say.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rp, ok := p.routes[hostOnly(r.Host)]
	if !ok {
		p.answer(w, r, func(w http.ResponseWriter, r *http.Request) {
			p.auth.Render.Error(w, r, http.StatusNotFound, "Unknown site", "Portcullis serves no site at this address.")
		})
		return
	}
	t, err := p.target(r)
	if err != nil {
		p.answer(w, r, func(w http.ResponseWriter, r *http.Request) { p.auth.badRequest(w, r, err) })
		return
	}
	v := p.auth.decide(r, t)
	p.auth.log(r, "proxy", t, v)
	if v.kind == allow {
		rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), grantKey{}, grant{v: v, scheme: t.URL.Scheme})))
		return
	}
	p.answer(w, r, func(w http.ResponseWriter, r *http.Request) { p.refuse(w, r, t, v) })
}

// answer writes one of the proxy's own answers through Pages.
func (p *Proxy) answer(w http.ResponseWriter, r *http.Request, f http.HandlerFunc) {
	p.pages(f).ServeHTTP(w, r)
}

var errUncleanPath = errors.New("forwardauth: the path has dot segments, an empty segment or a backslash")

// target is the request as the rules see it.
func (p *Proxy) target(r *http.Request) (Target, error) {
	proto := p.scheme
	if web.FromTrustedProxy(r) {
		proto = first(r.Header.Get("X-Forwarded-Proto"), proto)
	}
	t, err := build(r.Method, proto, r.Host, r.RequestURI)
	if err != nil {
		return Target{}, err
	}
	if !cleanPath(t.URL.Path) {
		return Target{}, errUncleanPath
	}
	return t, nil
}

// cleanPath reports whether the (decoded) path has no "." or ".." segment,
// no empty segment and no backslash, so every server reads it as we do.
func cleanPath(path string) bool {
	if strings.ContainsRune(path, '\\') {
		return false
	}
	segs := strings.Split(path, "/")
	for i, s := range segs[1:] {
		if s == "." || s == ".." || (s == "" && i < len(segs)-2) {
			return false
		}
	}
	return true
}

// refuse answers a request that may not be proxied.
func (p *Proxy) refuse(w http.ResponseWriter, r *http.Request, t Target, v verdict) {
	noStore(w)
	switch v.kind {
	case signIn, stepUp:
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			http.Redirect(w, r, p.auth.StartURL(t.URL.String()), http.StatusFound)
			return
		}
		p.auth.Render.Error(w, r, http.StatusUnauthorized, "Sign-in required",
			"Sign in to "+t.Host()+" first, then try again.")
	case deny:
		p.auth.Render.Error(w, r, http.StatusForbidden, "Access refused", "Your account may not open "+t.Host()+".")
	default:
		w.Header().Set("Retry-After", "5")
		p.auth.Render.Error(w, r, http.StatusServiceUnavailable, "Temporarily unavailable",
			"Sign-in is temporarily unavailable. Please try again in a moment.")
	}
}

// rewrite is the Rewrite hook for the upstream at up.
func (p *Proxy) rewrite(up *url.URL) func(*httputil.ProxyRequest) {
	return func(pr *httputil.ProxyRequest) {
		g, _ := pr.In.Context().Value(grantKey{}).(grant)
		pr.SetURL(up)
		pr.Out.Host = pr.In.Host
		h := pr.Out.Header
		stripIdentity(h, p.auth.Headers)
		stripCookie(h, p.cookie)
		if web.FromTrustedProxy(pr.In) {
			h["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
		}
		pr.SetXForwarded()
		if g.scheme != "" {
			h.Set("X-Forwarded-Proto", g.scheme)
		}
		h.Set("X-Real-IP", web.ClientIP(pr.In))
		if id := web.RequestID(pr.In.Context()); id != "" {
			h.Set(web.RequestIDHeader, id)
		}
		p.auth.setIdentity(h, g.v)
	}
}

// stripIdentity removes every header that could pass for an identity
// header: the configured names and any "Remote-" header, in any case and
// with "_" for "-".
func stripIdentity(h http.Header, names config.IdentityHeaders) {
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "-")) }
	ours := []string{norm(names.User), norm(names.Email), norm(names.Name), norm(names.Groups)}
	for k := range h {
		n := norm(k)
		if strings.HasPrefix(n, "remote-") || (n != "" && (n == ours[0] || n == ours[1] || n == ours[2] || n == ours[3])) {
			delete(h, k)
		}
	}
}

// stripCookie removes the cookie called name from the Cookie headers,
// leaving the others as they were sent.
func stripCookie(h http.Header, name string) {
	if name == "" {
		return
	}
	var kept []string
	for _, line := range h.Values("Cookie") {
		var parts []string
		for c := range strings.SplitSeq(line, ";") {
			if n, _, _ := strings.Cut(strings.TrimSpace(c), "="); n != name {
				parts = append(parts, strings.TrimSpace(c))
			}
		}
		if len(parts) > 0 {
			kept = append(kept, strings.Join(parts, "; "))
		}
	}
	h.Del("Cookie")
	for _, line := range kept {
		h.Add("Cookie", line)
	}
}

// dropRequestID removes the upstream's X-Request-ID, so the browser gets
// the gateway's (which the upstream received) once.
func dropRequestID(res *http.Response) error {
	res.Header.Del(web.RequestIDHeader)
	return nil
}

// upstreamError answers 502 when the upstream cannot be reached or fails
// mid-request.
func (p *Proxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	log := p.auth.logger()
	if r.Context().Err() != nil {
		log.DebugContext(r.Context(), "forward-auth proxy: client went away", "err", err, "host", r.Host)
	} else {
		log.ErrorContext(r.Context(), "forward-auth proxy: upstream failed", "err", err, "host", r.Host,
			"upstream", r.URL.Host, "request_id", web.RequestID(r.Context()))
	}
	p.answer(w, r, func(w http.ResponseWriter, r *http.Request) {
		noStore(w)
		p.auth.Render.Error(w, r, http.StatusBadGateway, "Bad gateway",
			"The application did not answer. Please try again in a moment.")
	})
}

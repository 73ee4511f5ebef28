package forwardauth

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/portcullis/portcullis/web"
)

// Target is the request the proxy asks about.
type Target struct {
	Method string
	URL    *url.URL // absolute: scheme, host (with port, if any), path, query
}

// Host is the target's host name without port, lower-cased.
func (t Target) Host() string { return strings.ToLower(t.URL.Hostname()) }

// Errors of target parsing; each answers 400.
var (
	errUntrusted = errors.New("forwardauth: the request does not come from a trusted proxy (trusted_proxies), so its forwarded headers are ignored")
	errNoTarget  = errors.New("forwardauth: the proxy sent no original URL")
	errBadTarget = errors.New("forwardauth: the original URL is malformed")
)

// maxTargetLen bounds a forwarded URL.
const maxTargetLen = 8192

// fromNginx reads nginx auth_request's headers: X-Original-URL (or, when
// it is missing, X-Original-Proto/X-Forwarded-Proto + X-Original-Host/Host +
// X-Original-URI), and X-Original-Method (default GET).
func fromNginx(r *http.Request) (Target, error) {
	if !web.FromTrustedProxy(r) {
		return Target{}, errUntrusted
	}
	method := methodOr(r.Header.Get("X-Original-Method"))
	if raw := r.Header.Get("X-Original-Url"); raw != "" {
		return parseTarget(method, raw)
	}
	uri := r.Header.Get("X-Original-Uri")
	if uri == "" {
		return Target{}, errNoTarget
	}
	proto := first(r.Header.Get("X-Original-Proto"), r.Header.Get("X-Forwarded-Proto"), "http")
	host := first(r.Header.Get("X-Original-Host"), r.Header.Get("X-Forwarded-Host"), r.Host)
	return build(method, proto, host, uri)
}

// fromForwarded reads Traefik's ForwardAuth and Caddy's forward_auth
// headers: X-Forwarded-Method, -Proto, -Host and -Uri.
func fromForwarded(r *http.Request) (Target, error) {
	if !web.FromTrustedProxy(r) {
		return Target{}, errUntrusted
	}
	uri, host := r.Header.Get("X-Forwarded-Uri"), r.Header.Get("X-Forwarded-Host")
	if uri == "" || host == "" {
		return Target{}, errNoTarget
	}
	return build(methodOr(r.Header.Get("X-Forwarded-Method")), first(r.Header.Get("X-Forwarded-Proto"), "http"), host, uri)
}

// fromEnvoy reads Envoy ext_authz's HTTP service request: the original
// method, the original path after prefix, the original :authority as Host,
// and X-Forwarded-Proto.
func fromEnvoy(r *http.Request, prefix string) (Target, error) {
	if !web.FromTrustedProxy(r) {
		return Target{}, errUntrusted
	}
	uri := strings.TrimPrefix(r.URL.RequestURI(), prefix)
	if !strings.HasPrefix(uri, "/") {
		uri = "/" + uri
	}
	return build(r.Method, first(r.Header.Get("X-Forwarded-Proto"), "http"), r.Host, uri)
}

func build(method, proto, host, uri string) (Target, error) {
	proto = strings.ToLower(strings.TrimSpace(proto))
	if i := strings.IndexByte(proto, ','); i >= 0 { // several proxies: the first is the client's
		proto = strings.TrimSpace(proto[:i])
	}
	if !strings.HasPrefix(uri, "/") || strings.HasPrefix(uri, "//") {
		return Target{}, errBadTarget
	}
	return parseTarget(method, proto+"://"+host+uri)
}

func parseTarget(method, raw string) (Target, error) {
	if len(raw) > maxTargetLen || strings.ContainsAny(raw, "\x00\r\n\t ") {
		return Target{}, errBadTarget
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || !validHost(u) {
		return Target{}, errBadTarget
	}
	if u.Path == "" {
		u.Path = "/"
	}
	if !validMethod(method) {
		return Target{}, errBadTarget
	}
	u.Fragment = ""
	return Target{Method: method, URL: u}, nil
}

// validMethod accepts the standard methods and extension methods such as
// WebDAV's PROPFIND or MKCOL: 1 to 20 upper-case letters or "-".
func validMethod(m string) bool {
	if m == "" || len(m) > 20 {
		return false
	}
	for _, r := range m {
		if !(r >= 'A' && r <= 'Z' || r == '-') {
			return false
		}
	}
	return true
}

func validHost(u *url.URL) bool {
	h := u.Hostname()
	if h == "" || len(h) > 253 {
		return false
	}
	if net.ParseIP(h) != nil {
		return true
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return false
		}
	}
	return true
}

func methodOr(m string) string {
	if m == "" {
		return http.MethodGet
	}
	return strings.ToUpper(strings.TrimSpace(m))
}

func first(vals ...string) string {
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

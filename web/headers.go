package web

import (
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// contentSecurityPolicy allows nothing but this origin. img-src adds data:
// for QR codes drawn inline on enrolment pages; scripts, when a page needs
// one, are files under /static/, never inline.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; object-src 'none'; " +
	"base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// permissionsPolicy turns off the powerful features no Portcullis page uses.
// WebAuthn (publickey-credentials-*) keeps its default of 'self'.
const permissionsPolicy = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), " +
	"magnetometer=(), microphone=(), payment=(), usb=()"

// hstsValue is a year, the minimum for preload lists, without
// includeSubDomains: other hosts of the operator's domain are not ours to pin.
const hstsValue = "max-age=31536000"

// HeaderOptions configures SecurityHeaders.
type HeaderOptions struct {
	// HSTS sends Strict-Transport-Security; set it when the base URL is
	// https. Over plain http the header would be ignored anyway, and on a
	// laptop it would pin localhost to https.
	HSTS bool
}

// SecurityHeaders returns middleware that sets the security headers on every
// response before the handler runs, so error pages and static files get them
// too. See the package doc for the choices.
func SecurityHeaders(opts HeaderOptions) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			opts.set(w.Header())
			next.ServeHTTP(w, r)
		})
	}
}

func (opts HeaderOptions) set(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("Permissions-Policy", permissionsPolicy)
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if opts.HSTS {
		h.Set("Strict-Transport-Security", hstsValue)
	}
}

// SecurityHeadersUnlessOK is SecurityHeaders for the answers to a reverse
// proxy's forward-auth check: it sets the headers on every answer but a
// 200. A proxy reads a 200 itself and copies only the identity headers it
// names onto the request to the app, so nothing of it reaches a browser;
// any other answer (a redirect to sign in, 401, 403, 503) the proxy may
// pass to the browser as it is, and that one gets them. The headers are
// more than half of a 200's bytes.
func SecurityHeadersUnlessOK(opts HeaderOptions) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(&unlessOK{ResponseWriter: w, opts: opts}, r)
		})
	}
}

// unlessOK sets the security headers when the status written is not 200.
type unlessOK struct {
	http.ResponseWriter
	opts  HeaderOptions
	wrote bool
}

func (u *unlessOK) WriteHeader(code int) {
	if !u.wrote && code >= http.StatusOK {
		u.wrote = true
		if code != http.StatusOK {
			u.opts.set(u.Header())
		}
	}
	u.ResponseWriter.WriteHeader(code)
}

func (u *unlessOK) Write(p []byte) (int, error) {
	if !u.wrote {
		u.WriteHeader(http.StatusOK)
	}
	return u.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (u *unlessOK) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// AllowFormAction lets the page being written post a form to target's
// origin, by adding that origin to the form-action directive of this one
// response. The SAML HTTP-POST binding needs it: its page auto-submits the
// assertion to the app's ACS URL on another origin, which form-action 'self'
// would block. Call it before writing the body. target may be the full URL
// (e.g. the ACS URL); only its scheme and host are used. An error means the
// URL is not an absolute http(s) URL and the policy is unchanged.
func AllowFormAction(w http.ResponseWriter, target string) error {
	origin, err := originOf(target)
	if err != nil {
		return err
	}
	h := w.Header()
	csp := h.Get("Content-Security-Policy")
	if csp == "" {
		return nil // no policy on this response, so nothing blocks the form
	}
	h.Set("Content-Security-Policy", addFormAction(csp, origin))
	return nil
}

var errNotOrigin = errors.New("web: form action must be an absolute http or https URL")

// originOf reduces target to scheme://host[:port]. url.Parse lets through
// host characters such as ; , * and ' that would smuggle another directive or
// a wildcard into the policy, so the host must be a plain DNS name or an IP.
func originOf(target string) (string, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		return "", errNotOrigin
	}
	if !plainHost(u.Hostname()) || !digits(u.Port()) {
		return "", errNotOrigin
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), nil
}

func plainHost(h string) bool {
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Zone() == ""
	}
	if h == "" {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func addFormAction(csp, origin string) string {
	dirs := strings.Split(csp, ";")
	for i, d := range dirs {
		fields := strings.Fields(d)
		if len(fields) == 0 || fields[0] != "form-action" {
			continue
		}
		for _, src := range fields[1:] {
			if src == origin {
				return csp
			}
		}
		dirs[i] = " " + strings.Join(append(fields, origin), " ")
	}
	return strings.TrimSpace(strings.Join(dirs, ";"))
}

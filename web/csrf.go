package web

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
)

const (
	// CSRFCookie holds the per-browser secret.
	CSRFCookie = "portcullis_csrf"
	// CSRFField is the form field that carries the token.
	CSRFField = "_csrf"
	// CSRFHeader carries the token for requests that are not forms.
	CSRFHeader = "X-CSRF-Token"

	csrfSecretLen = 32
	csrfTokenLen  = sha256.Size
)

// csrfLabel separates the CSRF derivation from anything else the server key
// might one day sign.
var csrfLabel = []byte("portcullis csrf token v1\x00")

var errCSRFKey = errors.New("web: CSRF key must be at least 32 bytes")

// CSRF protects browser forms; see the package doc for the design.
type CSRF struct {
	key    []byte
	secure bool
	origin *http.CrossOriginProtection
	rd     *Renderer
}

// CSRFOptions configures NewCSRF.
type CSRFOptions struct {
	// Secure marks the cookie Secure; set it when the base URL is https.
	Secure bool
	// TrustedOrigins may post besides the request's own Host, e.g. the base
	// URL's origin when a proxy rewrites the Host header. Only browsers that
	// lack Sec-Fetch-Site need it.
	TrustedOrigins []string
}

// NewCSRF returns CSRF protection keyed by key (at least 32 random bytes,
// stable across nodes and restarts, or every open form fails once). rd
// renders the 403 page.
func NewCSRF(key []byte, rd *Renderer, opts CSRFOptions) (*CSRF, error) {
	if len(key) < 32 {
		return nil, errCSRFKey
	}
	origin := http.NewCrossOriginProtection()
	for _, o := range opts.TrustedOrigins {
		if err := origin.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("csrf trusted origin: %w", err)
		}
	}
	return &CSRF{key: bytes.Clone(key), secure: opts.Secure, origin: origin, rd: rd}, nil
}

type csrfKey struct{}

type csrfState struct {
	c      *CSRF
	secret []byte
}

// Protect wraps a browser form route. Safe methods pass, creating the cookie
// on a first visit so the page can render its token. Any other method must
// come from our own origin and carry the token that belongs to the cookie;
// otherwise the browser gets a 403 "form expired" page and next never runs.
func (c *CSRF) Protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, ok := c.readSecret(r)
		if safeMethod(r.Method) {
			if !ok {
				secret = newCSRFSecret()
				c.setCookie(w, secret)
			}
		} else if err := c.verify(w, r, secret); err != nil {
			c.rd.Fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), csrfKey{}, csrfState{c, secret})))
	})
}

// CSRFToken returns a fresh token for the forms of the page being rendered,
// or "" outside a Protect-ed route. Each call masks the token anew, so pages
// never repeat the same bytes.
func CSRFToken(r *http.Request) string {
	st, ok := r.Context().Value(csrfKey{}).(csrfState)
	if !ok {
		return ""
	}
	return maskToken(st.c.derive(st.secret))
}

// verify checks, in order: the browser's own word on where the request came
// from, then the token. secret is nil when no valid cookie arrived.
func (c *CSRF) verify(w http.ResponseWriter, r *http.Request, secret []byte) error {
	if err := c.origin.Check(r); err != nil {
		return formExpired(err)
	}
	if secret == nil {
		return formExpired(errors.New("csrf: no cookie"))
	}
	token := r.Header.Get(CSRFHeader)
	if token == "" && isURLEncoded(r.Header.Get("Content-Type")) {
		if err := ParseForm(w, r); err != nil {
			return err
		}
		token = r.PostForm.Get(CSRFField)
	}
	if !c.tokenMatches(token, secret) {
		return formExpired(errors.New("csrf: token missing or does not match the cookie"))
	}
	return nil
}

func formExpired(cause error) error {
	return &HTTPError{
		Status:  http.StatusForbidden,
		Title:   "Form expired",
		Message: "This form has expired. Reload the page and try again.",
		Err:     cause,
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == http.MethodTrace
}

// readSecret returns the first well-formed secret cookie. A browser may send
// several of the same name (one planted on a parent domain); taking the same
// one on GET and POST keeps the rendered token and the check in step.
func (c *CSRF) readSecret(r *http.Request) ([]byte, bool) {
	for _, ck := range r.CookiesNamed(CSRFCookie) {
		b, err := base64.RawURLEncoding.DecodeString(ck.Value)
		if err == nil && len(b) == csrfSecretLen {
			return b, true
		}
	}
	return nil, false
}

// setCookie stores the secret for the browser session. It has no Max-Age:
// the secret is only the anchor for tokens, and a long-lived one means fewer
// "form expired" pages for tabs left open.
func (c *CSRF) setCookie(w http.ResponseWriter, secret []byte) {
	http.SetCookie(w, &http.Cookie{
		Name:     CSRFCookie,
		Value:    base64.RawURLEncoding.EncodeToString(secret),
		Path:     "/",
		HttpOnly: true,
		Secure:   c.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

func newCSRFSecret() []byte {
	b := make([]byte, csrfSecretLen)
	rand.Read(b)
	return b
}

// derive is the unmasked token: only the server key turns a cookie secret
// into it.
func (c *CSRF) derive(secret []byte) []byte {
	mac := hmac.New(sha256.New, c.key)
	mac.Write(csrfLabel)
	mac.Write(secret)
	return mac.Sum(nil)
}

// maskToken returns base64(pad || token XOR pad) with a fresh random pad.
func maskToken(token []byte) string {
	out := make([]byte, 2*len(token))
	pad, masked := out[:len(token)], out[len(token):]
	rand.Read(pad)
	for i := range token {
		masked[i] = token[i] ^ pad[i]
	}
	return base64.RawURLEncoding.EncodeToString(out)
}

func (c *CSRF) tokenMatches(token string, secret []byte) bool {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 2*csrfTokenLen {
		return false
	}
	pad, masked := raw[:csrfTokenLen], raw[csrfTokenLen:]
	got := make([]byte, csrfTokenLen)
	for i := range got {
		got[i] = masked[i] ^ pad[i]
	}
	return hmac.Equal(got, c.derive(secret))
}

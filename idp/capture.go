package idp

import (
	"bytes"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"strings"

	"github.com/crewjam/saml"
)

// capture stands in for the browser while crewjam/saml handles a logout
// message. crewjam writes its own pages (auto-submitting forms with inline
// scripts that our Content-Security-Policy blocks, and a bare "logged out"
// page); capture installs templates that only record what those pages
// would carry, so the IdP can render its own, and keeps everything else
// (redirects, cookies, errors) to pass on.
type capture struct {
	header http.Header
	status int
	body   bytes.Buffer

	form   *PostData // a form crewjam wanted posted
	done   bool      // crewjam finished a logout (LogoutCompleteTemplate)
	failed []string  // entity IDs it could not log out
	logged []string  // what crewjam logged: the reasons for its refusals
}

func newCapture() *capture { return &capture{header: http.Header{}} }

func (c *capture) Header() http.Header { return c.header }

func (c *capture) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}

func (c *capture) Write(b []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	return c.body.Write(b)
}

// install points idp's page templates and logger at c.
func (c *capture) install(idp *saml.IdentityProvider, h *Handler) {
	funcs := template.FuncMap{
		"post": func(url, name, value, relay string) string {
			c.form = &PostData{URL: url, Fields: []Field{{Name: name, Value: value}}}
			if relay != "" {
				c.form.Fields = append(c.form.Fields, Field{Name: "RelayState", Value: relay})
			}
			return ""
		},
		"done": func(failed []string) string {
			c.done, c.failed = true, failed
			return ""
		},
	}
	parse := func(src string) *template.Template {
		return template.Must(template.New("").Funcs(funcs).Parse(src))
	}
	idp.ResponseFormTemplate = parse(`{{post .URL "SAMLResponse" .SAMLResponse .RelayState}}`)
	idp.LogoutRequestFormTemplate = parse(`{{post .URL "SAMLRequest" .SAMLRequest ""}}`)
	idp.LogoutCompleteTemplate = parse(`{{done .Failed}}`)
	idp.Logger = log.New(logTee{c: c, h: h}, "", 0)
}

// logTee sends crewjam's log lines to the Handler's logger and keeps them
// as refusal reasons.
type logTee struct {
	c *capture
	h *Handler
}

func (t logTee) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	t.c.logged = append(t.c.logged, line)
	t.h.logger().Warn("saml: " + line)
	return len(p), nil
}

// reason is the last thing crewjam logged, or the HTTP status it answered.
func (c *capture) reason() string {
	if n := len(c.logged); n > 0 {
		return c.logged[n-1]
	}
	return fmt.Sprintf("answered HTTP %d", c.status)
}

// copyCookies passes on the cookies crewjam set (its logout state).
func (c *capture) copyCookies(w http.ResponseWriter) {
	for _, v := range c.header.Values("Set-Cookie") {
		w.Header().Add("Set-Cookie", v)
	}
}

// flush writes what crewjam answered: the form as saml_post.html, an error
// status as an error page, anything else (a redirect) as it was.
func (c *capture) flush(w http.ResponseWriter, r *http.Request, h *Handler, d PostData) {
	c.copyCookies(w)
	switch {
	case c.form != nil:
		d.URL, d.Fields = c.form.URL, c.form.Fields
		if err := h.post(w, r, d); err != nil {
			h.Render.Fail(w, r, err)
		}
	case c.status >= 500:
		h.Render.Fail(w, r, fmt.Errorf("saml slo: %s", c.reason()))
	case c.status >= 400:
		h.Render.Error(w, r, http.StatusBadRequest, "Sign-out request refused",
			"The app sent a sign-out message that Portcullis cannot accept.")
	default:
		for k, v := range c.header {
			if k != "Set-Cookie" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(max(c.status, http.StatusOK))
		w.Write(c.body.Bytes())
	}
}

package web

import (
	"html"
	"html/template"
	"maps"
	"net/http"
	"slices"
)

// PostData is the Data of saml_post.html: a form the browser posts to
// another site (saml-bindings §3.5.4), submitted by /static/autosubmit.js
// and by its Continue button when scripts are off. The SAML IdP posts
// Responses and LogoutRequests with it, the SP AuthnRequests.
type PostData struct {
	// URL is the form action: an endpoint from the peer's metadata, never
	// from the request.
	URL string
	// Fields are hidden inputs: SAMLResponse or SAMLRequest, and RelayState.
	Fields []Field
	// Heading and Message say what is happening.
	Heading string
	Message string
}

// Field is one hidden form input.
type Field struct{ Name, Value string }

// Attrs returns the input's name and value attributes, escaped with
// html.EscapeString. The template inserts them as they are: html/template's
// own attribute escaper works rune by rune, and a SAMLResponse is tens of
// kilobytes of base64, which needs no escaping at all.
func (f Field) Attrs() template.HTMLAttr {
	return template.HTMLAttr(`name="` + html.EscapeString(f.Name) + `" value="` + html.EscapeString(f.Value) + `"`)
}

// Post renders saml_post.html, letting this one page's form post to the
// target's origin (the Content-Security-Policy allows only 'self'). An
// error means d.URL is not an absolute http(s) URL; nothing is written.
func (rd *Renderer) Post(w http.ResponseWriter, r *http.Request, d PostData) error {
	if err := AllowFormAction(w, d.URL); err != nil {
		return err
	}
	rd.Render(w, r, http.StatusOK, "saml_post.html", Page{Title: d.Heading, Data: d})
	return nil
}

// BounceField marks a form that Bounce has posted again.
const BounceField = "portcullis_bounce"

// Bounce answers a POST that came from another site's page without the
// session cookie (hasCookie false), which SameSite=Lax leaves behind: the
// same form is posted again to action from this site's own page, with
// BounceField added, and arrives with the cookie, so that the session it
// concerns can be found (a SAML LogoutRequest over HTTP-POST). The fields
// are not inspected here; the handler validates them after the bounce as
// it would have before. It reports whether it answered; a form already
// bounced, a GET, or a request with the cookie is left to the caller. Call
// ParseForm first.
func (rd *Renderer) Bounce(w http.ResponseWriter, r *http.Request, hasCookie bool, action, heading string) bool {
	if r.Method != http.MethodPost || hasCookie || r.PostForm.Get(BounceField) != "" {
		return false
	}
	fields := []Field{{Name: BounceField, Value: "1"}}
	for _, name := range slices.Sorted(maps.Keys(r.PostForm)) {
		if name != BounceField {
			fields = append(fields, Field{Name: name, Value: r.PostForm.Get(name)})
		}
	}
	if err := rd.Post(w, r, PostData{URL: action, Fields: fields, Heading: heading}); err != nil {
		rd.Fail(w, r, err)
	}
	return true
}

// SAMLParam is a field of a SAML binding: from the form of a POST (HTTP-POST;
// call ParseForm first), from the query otherwise (HTTP-Redirect).
func SAMLParam(r *http.Request, name string) string {
	if r.Method == http.MethodPost {
		return r.PostForm.Get(name)
	}
	return r.URL.Query().Get(name)
}

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

// Repost posts r's form again to action from this site's own page, with
// marker=1 added: a POST another site's page made arrives without the
// SameSite=Lax session cookie, and the same form posted again from here
// carries it. The fields are not inspected; the handler that receives the
// repost validates them as it would have. Call ParseForm first.
func (rd *Renderer) Repost(w http.ResponseWriter, r *http.Request, action, marker, heading string) error {
	fields := []Field{{Name: marker, Value: "1"}}
	for _, name := range slices.Sorted(maps.Keys(r.PostForm)) {
		if name != marker {
			fields = append(fields, Field{Name: name, Value: r.PostForm.Get(name)})
		}
	}
	return rd.Post(w, r, PostData{URL: action, Fields: fields, Heading: heading})
}

// SAMLParam is a field of a SAML binding: from the form of a POST (HTTP-POST;
// call ParseForm first), from the query otherwise (HTTP-Redirect).
func SAMLParam(r *http.Request, name string) string {
	if r.Method == http.MethodPost {
		return r.PostForm.Get(name)
	}
	return r.URL.Query().Get(name)
}

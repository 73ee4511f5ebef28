package web

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
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
type Field struct {
	Name, Value string
	attrs       string // Attrs, when Base64Field wrote it
}

// Base64Field is the field name whose value is the standard base64 of raw,
// as the HTTP-POST binding carries a SAML message. Its attributes are
// written once, with Value a part of them: a SAMLResponse is tens of
// kilobytes, and base64 needs no escaping, so Attrs need not copy it again.
func Base64Field(name string, raw []byte) Field {
	prefix := `name="` + html.EscapeString(name) + `" value="`
	var b strings.Builder
	b.Grow(len(prefix) + base64.StdEncoding.EncodedLen(len(raw)) + 1)
	b.WriteString(prefix)
	enc := base64.NewEncoder(base64.StdEncoding, &b)
	enc.Write(raw) // a strings.Builder does not fail
	enc.Close()
	b.WriteByte('"')
	attrs := b.String()
	return Field{Name: name, Value: attrs[len(prefix) : len(attrs)-1], attrs: attrs}
}

// Attrs returns the input's name and value attributes, escaped with
// html.EscapeString. The template inserts them as they are: html/template's
// own attribute escaper works rune by rune, and a SAMLResponse is tens of
// kilobytes of base64, which needs no escaping at all.
func (f Field) Attrs() template.HTMLAttr {
	if f.attrs != "" {
		return template.HTMLAttr(f.attrs)
	}
	return template.HTMLAttr(`name="` + html.EscapeString(f.Name) + `" value="` + html.EscapeString(f.Value) + `"`)
}

// Post renders saml_post.html, letting this one page's form post to the
// target's origin (the Content-Security-Policy allows only 'self'). An
// error means d.URL is not an absolute http(s) URL; nothing is written.
//
// The page is the same for every form with the same URL, heading, message
// and field names, but for the fields' attributes, which the template
// inserts as they are (Field.Attrs). So it is executed once for such a form,
// with a marker in place of each field's attributes, and kept cut at the
// markers (postShells); a request writes the pieces with its own fields'
// attributes between them, the bytes the template would have written. A
// template that writes anything of a request's own (the CSRF token, the
// request ID, a field's Value) is executed for every request, and so are
// an operator's saml_post.html and layout.html, which might use a value in
// a way no marker shows.
func (rd *Renderer) Post(w http.ResponseWriter, r *http.Request, d PostData) error {
	if err := AllowFormAction(w, d.URL); err != nil {
		return err
	}
	parts := rd.postShell(r, d)
	if parts == nil {
		rd.Render(w, r, http.StatusOK, postPage, Page{Title: d.Heading, Data: d})
		return nil
	}
	buf := pageBuffers.Get().(*bytes.Buffer)
	defer putPageBuffer(buf)
	for i, f := range d.Fields {
		buf.WriteString(parts[i])
		buf.WriteString(string(f.Attrs()))
	}
	buf.WriteString(parts[len(d.Fields)])
	writeHTML(w, http.StatusOK, buf.Bytes())
	return nil
}

const postPage = "saml_post.html"

// postShells holds saml_post.html as executed for each form seen, cut where
// the fields' attributes go: len(Fields)+1 pieces, or nil when the template
// writes something of a request's own and must be executed every time.
type postShells struct {
	mu     sync.Mutex
	m      map[postForm][]string
	marker string // random, so that no page text can hold it
}

// postForm is what the page depends on: everything in PostData but the
// fields' values.
type postForm struct {
	url, heading, message, names string
}

// maxPostShells bounds the cache: a form is an app's ACS URL, heading and
// message, so a deployment has about as many as apps. When full, it starts
// over. maxPostForm bounds what one form may hold to be kept (its URL,
// heading, message and field names, in bytes): Bounce posts again the
// field names of any cross-site POST, so a form can be anyone's, and the
// cache must stay a few megabytes whatever is posted.
const (
	maxPostShells = 1024
	maxPostForm   = 2048
)

// postShell returns the pieces of d's page, executing the template with
// markers the first time.
func (rd *Renderer) postShell(r *http.Request, d PostData) []string {
	names := make([]string, len(d.Fields))
	for i, f := range d.Fields {
		names[i] = f.Name
	}
	key := postForm{url: d.URL, heading: d.Heading, message: d.Message, names: strings.Join(names, "\x00")}
	if len(key.url)+len(key.heading)+len(key.message)+len(key.names) > maxPostForm {
		return nil
	}
	ps := &rd.posts
	ps.mu.Lock()
	parts, seen := ps.m[key]
	ps.mu.Unlock()
	if seen {
		return parts
	}
	parts = rd.cutPostShell(r, d, ps.marker)
	ps.mu.Lock()
	if ps.m == nil || len(ps.m) >= maxPostShells {
		ps.m = map[postForm][]string{}
	}
	ps.m[key] = parts
	ps.mu.Unlock()
	return parts
}

// cutPostShell executes the page for d with markers for the fields'
// attributes and for everything of a request's own, and cuts it at the
// attributes' markers; nil when that cannot stand for every request.
func (rd *Renderer) cutPostShell(r *http.Request, d PostData, marker string) []string {
	if marker == "" { // an operator's templates, or a Renderer not made by NewRenderer
		return nil
	}
	own := []string{marker + "-csrf", marker + "-request"}
	slots := make([]Field, len(d.Fields))
	for i, f := range d.Fields {
		value := fmt.Sprintf("%s-value-%d", marker, i)
		slots[i] = Field{Name: f.Name, Value: value, attrs: fmt.Sprintf("%s-attrs-%d", marker, i)}
		own = append(own, value)
	}
	data := d
	data.Fields = slots
	var buf bytes.Buffer
	if err := rd.execute(&buf, r, postPage, Page{Title: d.Heading, CSRF: own[0], RequestID: own[1], Data: data}); err != nil {
		return nil // Render reports it
	}
	page := buf.String()
	for _, o := range own {
		if strings.Contains(page, o) {
			return nil
		}
	}
	parts := make([]string, 0, len(slots)+1)
	for _, f := range slots {
		before, after, ok := strings.Cut(page, f.attrs)
		if !ok || strings.Contains(after, f.attrs) {
			return nil
		}
		parts = append(parts, before)
		page = after
	}
	return append(parts, page)
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

package idp

import (
	"bytes"
	"encoding/base64"
	"html"
	"html/template"
	"net/http"
	"strings"
	"sync"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/web"
)

// PostData is the Data of saml_post.html: a form the browser posts to
// another site (saml-bindings §3.5.4), submitted by /static/autosubmit.js
// and by its Continue button when scripts are off.
type PostData struct {
	// URL is the form action: an ACS or SingleLogoutService from the app's
	// metadata, never from the request.
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

// WriteResponse implements saml.ResponseWriter: it seals the Response (or
// takes the error Response crewjam made) and posts it with the HTTP-POST
// binding. RelayState goes back exactly as received (saml-bindings §3.5.3)
// and is never used as a redirect target.
func (f *ssoFlow) WriteResponse(w http.ResponseWriter, req *saml.IdpAuthnRequest) error {
	if req.ResponseEl == nil {
		if err := seal(req, f.app.Settings); err != nil {
			return err
		}
	}
	fields := []Field{{"SAMLResponse", encodeElement(req.ResponseEl)}}
	if req.RelayState != "" {
		fields = append(fields, Field{"RelayState", req.RelayState})
	}
	return f.h.post(w, req.HTTPRequest, PostData{URL: req.ACSEndpoint.Location, Fields: fields,
		Heading: "Signing you in", Message: "Taking you to " + or(f.app.Name, "the app") + "…"})
}

// post renders saml_post.html, letting this one page's form post to the
// target's origin (the Content-Security-Policy allows only 'self').
func (h *Handler) post(w http.ResponseWriter, r *http.Request, d PostData) error {
	if err := web.AllowFormAction(w, d.URL); err != nil {
		return err
	}
	h.Render.Render(w, r, http.StatusOK, "saml_post.html", web.Page{Title: d.Heading, Data: d})
	return nil
}

// xmlBuffers are reused for serializing Responses: a signed Response is
// several kilobytes, which a fresh buffer would reach by growing a few times
// on every sign-in.
var xmlBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// encodeElement is el serialized (as etree.Document.WriteTo would, with the
// default settings, without its bufio.Writer) and base64-encoded, as the
// HTTP-POST binding carries it (saml-bindings §3.5.4).
func encodeElement(el *etree.Element) string {
	buf := xmlBuffers.Get().(*bytes.Buffer)
	defer xmlBuffers.Put(buf)
	buf.Reset()
	el.WriteTo(buf, &etree.WriteSettings{})
	var out strings.Builder
	out.Grow(base64.StdEncoding.EncodedLen(buf.Len()))
	enc := base64.NewEncoder(base64.StdEncoding, &out)
	_, _ = enc.Write(buf.Bytes()) // a strings.Builder does not fail
	_ = enc.Close()
	return out.String()
}

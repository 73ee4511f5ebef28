package idp

import (
	"bytes"
	"html"
	"html/template"
	"net/http"

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

// WriteResponse implements saml.ResponseWriter: it posts the sealed
// Response (sealing it first if need be), or the error Response crewjam
// made, with the HTTP-POST binding. RelayState goes back exactly as
// received (saml-bindings §3.5.3) and is never used as a redirect target.
func (f *ssoFlow) WriteResponse(w http.ResponseWriter, req *saml.IdpAuthnRequest) error {
	response := f.sealed
	switch {
	case req.ResponseEl != nil: // an error Response
		response = encodeElement(req.ResponseEl)
	case response == "":
		var err error
		if response, err = seal(req, f.app.Settings); err != nil {
			return err
		}
	}
	fields := []Field{{"SAMLResponse", response}}
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

// encodeElement is el serialized (as etree.Document.WriteTo would, with the
// default settings) and base64-encoded, as the HTTP-POST binding carries it
// (saml-bindings §3.5.4).
func encodeElement(el *etree.Element) string {
	w := getXMLOut(false)
	defer putXMLOut(w)
	buf := bytes.NewBuffer(w.b)
	el.WriteTo(buf, &etree.WriteSettings{})
	w.b = buf.Bytes()
	return encode64(w.b)
}

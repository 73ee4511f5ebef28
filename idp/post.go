package idp

import (
	"bytes"
	"net/http"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/web"
)

// PostData is the Data of saml_post.html (web.PostData).
type PostData = web.PostData

// Field is one hidden form input of a PostData.
type Field = web.Field

// WriteResponse implements saml.ResponseWriter: it posts the sealed
// Response (sealing it first if need be), or the error Response crewjam
// made, with the HTTP-POST binding. RelayState goes back exactly as
// received (saml-bindings §3.5.3) and is never used as a redirect target.
func (f *ssoFlow) WriteResponse(w http.ResponseWriter, req *saml.IdpAuthnRequest) error {
	response := f.sealed
	switch {
	case req.ResponseEl != nil: // an error Response
		response = Field{Name: "SAMLResponse", Value: encodeElement(req.ResponseEl)}
	case response.Value == "":
		var err error
		if response, err = seal(req, f.app.Settings); err != nil {
			return err
		}
	}
	fields := []Field{response}
	if req.RelayState != "" {
		fields = append(fields, Field{Name: "RelayState", Value: req.RelayState})
	}
	return f.h.post(w, req.HTTPRequest, PostData{URL: req.ACSEndpoint.Location, Fields: fields,
		Heading: "Signing you in", Message: "Taking you to " + or(f.app.Name, "the app") + "…"})
}

// post renders saml_post.html, letting this one page's form post to the
// target's origin (the Content-Security-Policy allows only 'self').
func (h *Handler) post(w http.ResponseWriter, r *http.Request, d PostData) error {
	return h.Render.Post(w, r, d)
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

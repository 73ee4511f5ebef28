package sp

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"

	"github.com/crewjam/saml"
)

// metadata serves our SP metadata (saml-metadata §2.4.4): entity ID, the
// ACS (HTTP-POST), SLO (HTTP-Redirect and HTTP-POST), NameID format, and
// the active certificate for signing and encryption. During a key rollover
// the other published certificates are listed for signing too, so an IdP
// that refreshes our metadata trusts the next key before it signs.
func (h *Handler) metadata(w http.ResponseWriter, r *http.Request) {
	sp, published, err := h.serviceProvider(r.Context(), nil)
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	ed := sp.Metadata()
	for i := range ed.SPSSODescriptors {
		d := &ed.SPSSODescriptors[i]
		for _, c := range published {
			if c != nil && !c.Equal(sp.Certificate) {
				d.KeyDescriptors = append(d.KeyDescriptors, saml.KeyDescriptor{Use: "signing",
					KeyInfo: saml.KeyInfo{X509Data: saml.X509Data{X509Certificates: []saml.X509Certificate{
						{Data: base64.StdEncoding.EncodeToString(c.Raw)}}}}})
			}
		}
	}
	buf, err := xml.MarshalIndent(ed, "", "  ")
	if err != nil {
		h.Render.Fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(append([]byte(xml.Header), buf...))
}

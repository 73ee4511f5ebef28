package idp

import (
	"net/http"
)

// metadata serves the IdP's EntityDescriptor (saml-metadata §2.4.3): the
// entity ID, SSO and SLO endpoints for HTTP-Redirect and HTTP-POST, the
// NameID formats, and every published signing certificate, so that apps
// refreshing it trust the next key before it signs. With sign_metadata it
// carries an enveloped signature by the active key (saml-metadata §3).
func (h *Handler) metadata(w http.ResponseWriter, r *http.Request) {
	idp, err := h.identityProvider(r.Context(), &sloFlow{lookup: lookup{h: h}})
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	idp.OnError = func(w http.ResponseWriter, r *http.Request, _ int, err error) {
		h.Render.Fail(w, r, err)
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	idp.ServeMetadata(w, r)
}

package idp

import (
	"errors"
	"net/http"

	"github.com/crewjam/saml"
)

// launch is IdP-initiated sign-in (saml-profiles §4.1.5): an unsolicited
// Response to the app's default HTTP-POST ACS, with no RelayState. Signing
// in first returns here, so nothing needs parking.
func (h *Handler) launch(w http.ResponseWriter, r *http.Request) {
	f := &ssoFlow{lookup: lookup{h: h}, arrived: h.now(), launch: r.URL.RequestURI()}
	a, err := h.appByName(r.Context(), r.PathValue("name"))
	switch {
	case errors.Is(err, errUnknownApp):
		h.Render.Error(w, r, http.StatusNotFound, "App not found", "There is no app by that name.")
		return
	case err != nil:
		h.unavailable(w, r, err)
		return
	}
	f.remember(a)
	f.app = a
	idp, err := h.identityProvider(r.Context(), f)
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	req, err := idp.NewIdpInitiatedRequest(r, a.EntityID, "")
	if err == nil && req.ACSEndpoint.Binding != saml.HTTPPostBinding {
		err = saml.ErrUnknownAssertionConsumerService
	}
	if err != nil {
		h.refuse(w, r, badRequest("launch: app has no usable HTTP-POST ACS: "+err.Error()), event(RequestInfo{}, a.App))
		return
	}
	h.answer(w, r, idp, req, f)
}

package testenv

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"

	saml2 "github.com/russellhaering/gosaml2"
	"github.com/russellhaering/gosaml2/types"
)

// SPLogoutRequest is a LogoutRequest of the IdP that the SP's /slo accepted
// (signature, Destination and Issuer checked by gosaml2 or, for the
// HTTP-Redirect binding, the query signature by the SP).
type SPLogoutRequest struct {
	ID, Issuer, NameID, NameIDFormat string
	SessionIndexes                   []string
	Binding, RelayState              string
	XML                              []byte
}

// SPLogoutResponse is a LogoutResponse the SP's /slo received.
type SPLogoutResponse struct {
	ID, InResponseTo, Issuer string
	// Status is the top-level StatusCode, SubStatus the second-level one
	// (such as urn:oasis:names:tc:SAML:2.0:status:PartialLogout), if any.
	Status, SubStatus   string
	Binding, RelayState string
	XML                 []byte
}

// ErrSPNoLogoutResponse is what SP.LastLogoutResponse returns before any
// LogoutResponse came.
var ErrSPNoLogoutResponse = errors.New("samlsp: no LogoutResponse was received")

type spSLORecord struct {
	requests []SPLogoutRequest
	errs     []error
	resp     *SPLogoutResponse
	respErr  error
}

// logoutXML is what the SP reads of a LogoutRequest or LogoutResponse.
type logoutXML struct {
	ID           string `xml:"ID,attr"`
	InResponseTo string `xml:"InResponseTo,attr"`
	Issuer       string `xml:"Issuer"`
	NameID       struct {
		Value  string `xml:",chardata"`
		Format string `xml:"Format,attr"`
	} `xml:"NameID"`
	SessionIndexes []string `xml:"SessionIndex"`
	Status         struct {
		Code struct {
			Value string `xml:"Value,attr"`
			Sub   struct {
				Value string `xml:"Value,attr"`
			} `xml:"StatusCode"`
		} `xml:"StatusCode"`
	} `xml:"Status"`
}

// LogoutRequests returns the LogoutRequests the SP accepted, oldest first.
func (sp *SP) LogoutRequests() []SPLogoutRequest {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return append([]SPLogoutRequest(nil), sp.slo.requests...)
}

// SLOErrors returns why the SP rejected messages sent to /slo.
func (sp *SP) SLOErrors() []error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return append([]error(nil), sp.slo.errs...)
}

// LastLogoutResponse returns the latest LogoutResponse and, if the SP
// rejected it (bad signature, unknown InResponseTo, or a status other than
// Success), why; or ErrSPNoLogoutResponse.
func (sp *SP) LastLogoutResponse() (*SPLogoutResponse, error) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.slo.resp == nil {
		return nil, ErrSPNoLogoutResponse
	}
	return sp.slo.resp, sp.slo.respErr
}

// serveSLO is the SP's SingleLogoutService for both bindings (SAML Profiles
// §4.4.4): it answers the IdP's LogoutRequests and takes LogoutResponses to
// its own.
func (sp *SP) serveSLO(w http.ResponseWriter, r *http.Request) {
	msg, binding, err := sp.readSLO(r)
	switch {
	case msg != nil && msg.Param == "SAMLResponse":
		sp.acceptLogoutResponse(w, msg, binding, err)
	case err != nil:
		sp.mu.Lock()
		sp.slo.errs = append(sp.slo.errs, err)
		sp.mu.Unlock()
		sp.t.Logf("samlsp: /slo rejected a message: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
	default:
		sp.answerLogoutRequest(w, r, msg, binding)
	}
}

// readSLO decodes and validates the message of either binding. A
// LogoutResponse comes back even when invalid, with the error.
func (sp *SP) readSLO(r *http.Request) (*redirectMessage, string, error) {
	switch r.Method {
	case http.MethodGet:
		msg, err := readRedirect(r, sp.IdPCerts())
		if err != nil {
			return nil, bindingRedirect, err
		}
		return msg, bindingRedirect, sp.validateDecoded(msg)
	case http.MethodPost:
		msg, err := sp.readPOST(r)
		return msg, bindingPOST, err
	}
	return nil, "", fmt.Errorf("samlsp: /slo does not take %s", r.Method)
}

// validateDecoded has gosaml2 check the fields of a message whose
// signature was in the query.
func (sp *SP) validateDecoded(msg *redirectMessage) error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if msg.Param == "SAMLRequest" {
		var req saml2.LogoutRequest
		if err := xml.Unmarshal(msg.XML, &req); err != nil {
			return fmt.Errorf("samlsp: LogoutRequest: %w", err)
		}
		return sp.saml.ValidateDecodedLogoutRequest(&req)
	}
	var resp types.LogoutResponse
	if err := xml.Unmarshal(msg.XML, &resp); err != nil {
		return fmt.Errorf("samlsp: LogoutResponse: %w", err)
	}
	return sp.saml.ValidateDecodedLogoutResponse(&resp)
}

// readPOST decodes an HTTP-POST message and validates it with gosaml2.
func (sp *SP) readPOST(r *http.Request) (*redirectMessage, error) {
	if err := r.ParseForm(); err != nil {
		return nil, fmt.Errorf("samlsp: /slo form: %w", err)
	}
	msg := &redirectMessage{Param: "SAMLRequest", RelayState: r.PostForm.Get("RelayState")}
	if r.PostForm.Get("SAMLResponse") != "" {
		msg.Param = "SAMLResponse"
	}
	enc := r.PostForm.Get(msg.Param)
	b, err := base64.StdEncoding.DecodeString(enc)
	if enc == "" || err != nil {
		return nil, errors.New("samlsp: /slo: no base64 SAMLRequest or SAMLResponse field")
	}
	msg.XML = b
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if msg.Param == "SAMLRequest" {
		_, err = sp.saml.ValidateEncodedLogoutRequestPOST(enc)
	} else {
		_, err = sp.saml.ValidateEncodedLogoutResponsePOST(enc)
	}
	return msg, err
}

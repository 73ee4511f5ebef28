package testenv

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"

	saml2 "github.com/russellhaering/gosaml2"
	dsig "github.com/russellhaering/goxmldsig"
)

// spIdP is what the SP knows of the IdP it trusts.
type spIdP struct {
	EntityID    string
	SSORedirect string // SingleSignOnService, HTTP-Redirect binding
	SSOPost     string // SingleSignOnService, HTTP-POST binding
	SLO         spEndpoint
	Certs       []*x509.Certificate
}

// spEndpoint is a SingleLogoutService of the IdP.
type spEndpoint struct {
	Binding, Location, ResponseLocation string
}

// idpMetadata is the part of an IdP's EntityDescriptor the SP reads
// (SAML Metadata §2.4.3).
type idpMetadata struct {
	XMLName  xml.Name `xml:"urn:oasis:names:tc:SAML:2.0:metadata EntityDescriptor"`
	EntityID string   `xml:"entityID,attr"`
	IDP      *struct {
		Keys []struct {
			Use   string   `xml:"use,attr"`
			Certs []string `xml:"KeyInfo>X509Data>X509Certificate"`
		} `xml:"KeyDescriptor"`
		SLO []spEndpoint `xml:"SingleLogoutService"`
		SSO []spEndpoint `xml:"SingleSignOnService"`
	} `xml:"IDPSSODescriptor"`
}

// spEndpoint reads Binding, Location and ResponseLocation attributes.
func (e *spEndpoint) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	for _, a := range start.Attr {
		switch a.Name.Local {
		case "Binding":
			e.Binding = a.Value
		case "Location":
			e.Location = a.Value
		case "ResponseLocation":
			e.ResponseLocation = a.Value
		}
	}
	return d.Skip()
}

// Trust configures the SP for the IdP that idpMetadata (an EntityDescriptor
// with an IDPSSODescriptor) describes: its entity ID as the expected Issuer,
// its SSO and SLO endpoints, and every signing certificate it publishes
// (several during a key rollover). It may be called again, after the IdP
// rotates keys for instance.
func (sp *SP) Trust(metadata []byte) error {
	var md idpMetadata
	if err := xml.Unmarshal(metadata, &md); err != nil {
		return fmt.Errorf("samlsp: IdP metadata: %w", err)
	}
	if md.IDP == nil {
		return errors.New("samlsp: IdP metadata has no IDPSSODescriptor")
	}
	idp := spIdP{EntityID: md.EntityID}
	for _, e := range md.IDP.SSO {
		switch e.Binding {
		case bindingRedirect:
			idp.SSORedirect = e.Location
		case bindingPOST:
			idp.SSOPost = e.Location
		}
	}
	idp.SLO = pickSLO(md.IDP.SLO)
	certs, err := signingCerts(md)
	if err != nil {
		return err
	}
	idp.Certs = certs
	if idp.SSORedirect == "" && idp.SSOPost == "" {
		return errors.New("samlsp: IdP metadata has no HTTP-Redirect or HTTP-POST SingleSignOnService")
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.idp = idp
	sp.configureIdP()
	return nil
}

// configureIdP copies sp.idp into the gosaml2 ServiceProvider.
func (sp *SP) configureIdP() {
	s := sp.saml
	s.IdentityProviderIssuer = sp.idp.EntityID
	s.IdentityProviderSSOURL = sp.idp.SSORedirect
	s.IdentityProviderSSOBinding = saml2.BindingHttpRedirect
	if s.IdentityProviderSSOURL == "" {
		s.IdentityProviderSSOURL = sp.idp.SSOPost
		s.IdentityProviderSSOBinding = saml2.BindingHttpPost
	}
	s.IdentityProviderSLOURL = sp.idp.SLO.Location
	s.IdentityProviderSLOBinding = sp.idp.SLO.Binding
	s.IDPCertificateStore = &dsig.MemoryX509CertificateStore{Roots: sp.idp.Certs}
}

// pickSLO prefers the HTTP-Redirect SingleLogoutService, then HTTP-POST.
func pickSLO(eps []spEndpoint) spEndpoint {
	for _, want := range []string{bindingRedirect, bindingPOST} {
		for _, e := range eps {
			if e.Binding == want {
				return e
			}
		}
	}
	return spEndpoint{}
}

// signingCerts parses the certificates of the signing KeyDescriptors (and
// of those without a use, which serve both purposes).
func signingCerts(md idpMetadata) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for _, k := range md.IDP.Keys {
		if k.Use != "" && k.Use != "signing" {
			continue
		}
		for _, c := range k.Certs {
			der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c), ""))
			if err != nil {
				return nil, fmt.Errorf("samlsp: IdP certificate: %w", err)
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, fmt.Errorf("samlsp: IdP certificate: %w", err)
			}
			certs = append(certs, cert)
		}
	}
	if len(certs) == 0 {
		return nil, errors.New("samlsp: IdP metadata has no signing certificate")
	}
	return certs, nil
}

// IdPCerts returns the IdP signing certificates the SP trusts.
func (sp *SP) IdPCerts() []*x509.Certificate {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return append([]*x509.Certificate(nil), sp.idp.Certs...)
}

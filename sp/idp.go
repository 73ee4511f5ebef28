package sp

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/xmlcheck"
)

// How a user coming from an upstream IdP is linked to one of ours.
const (
	LinkByEmail     = "email"     // the email attribute (or an email NameID)
	LinkByNameID    = "nameid"    // the NameID value
	LinkByAttribute = "attribute" // the attribute named by Settings.LinkAttribute
)

// What an upstream IdP signs, by its name in settings and on the command
// line.
const (
	WantResponse  = "response"
	WantAssertion = "assertion"
	WantEither    = "either"
)

// Audit event types of upstream IdP registration.
const (
	EventIdPAdded     = "idp.added"
	EventIdPRemoved   = "idp.removed"
	EventIdPRefreshed = "idp.refreshed"
	EventIdPUpdated   = "idp.updated" // its settings changed
)

// REFEDSMFA is the AuthnContextClassRef of the REFEDS MFA profile
// (https://refeds.org/profile/mfa): the upstream IdP authenticated the user
// with more than one factor.
const REFEDSMFA = "https://refeds.org/profile/mfa"

// Settings is what the SP keeps per upstream IdP, stored as JSON in
// store.IdP.Settings. ParseSettings fills in the defaults.
type Settings struct {
	// Link is one of the LinkBy constants; empty means email.
	Link string `json:"link"`
	// LinkAttribute names the upstream attribute whose value links the
	// user; required with LinkByAttribute, refused otherwise.
	LinkAttribute string `json:"link_attribute,omitempty"`
	// CreateUsers creates a user on first login (just in time) when no
	// user links; otherwise such a login is refused.
	CreateUsers bool `json:"create_users"`
	// GroupsAttribute names the upstream attribute whose values become
	// group memberships; empty means none.
	GroupsAttribute string `json:"groups_attribute,omitempty"`
	// TrustMFA lets an upstream AuthnContextClassRef of REFEDSMFA satisfy
	// our MFA policy.
	TrustMFA bool `json:"trust_mfa"`
	// AllowUnsolicited accepts IdP-initiated Responses, without
	// InResponseTo.
	AllowUnsolicited bool `json:"allow_unsolicited"`
	// Want is one of the Want constants; empty means either.
	Want string `json:"want"`
}

// ParseSettings decodes and checks stored settings, with the defaults
// filled in; nil or empty is the defaults. Unknown fields are refused, so
// a misspelt setting does not silently fall back to its default.
func ParseSettings(raw json.RawMessage) (Settings, error) {
	var s Settings
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return s, fmt.Errorf("sp: idp settings: %w", err)
		}
	}
	s = s.withDefaults()
	return s, s.Validate()
}

func (s Settings) withDefaults() Settings {
	if s.Link == "" {
		s.Link = LinkByEmail
	}
	if s.Want == "" {
		s.Want = WantEither
	}
	return s
}

// ErrInvalidSettings is wrapped by every error of Settings.Validate.
var ErrInvalidSettings = errors.New("sp: idp settings")

// Validate reports every problem with s at once. Empty Link and Want mean
// their defaults.
func (s Settings) Validate() error {
	var problems []string
	switch s.Link {
	case "", LinkByEmail, LinkByNameID:
		if s.LinkAttribute != "" {
			problems = append(problems, fmt.Sprintf("link_attribute %q is only used with link attribute", s.LinkAttribute))
		}
	case LinkByAttribute:
		if strings.TrimSpace(s.LinkAttribute) == "" {
			problems = append(problems, "link attribute needs link_attribute, the upstream attribute to link by")
		}
	default:
		problems = append(problems, fmt.Sprintf("link %q is not email, nameid or attribute", s.Link))
	}
	if s.GroupsAttribute != "" && strings.TrimSpace(s.GroupsAttribute) == "" {
		problems = append(problems, "groups_attribute is blank")
	}
	if !slices.Contains([]string{"", WantResponse, WantAssertion, WantEither}, s.Want) {
		problems = append(problems, fmt.Sprintf("want %q is not response, assertion or either", s.Want))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidSettings, strings.Join(problems, "; "))
	}
	return nil
}

// SignedParts is s.Want as ParseResponse expects it.
func (s Settings) SignedParts() SignedParts {
	switch s.Want {
	case WantResponse:
		return SignedResponse
	case WantAssertion:
		return SignedAssertion
	default:
		return SignedEither
	}
}

// UpstreamMFA reports whether an assertion's AuthnContextClassRef counts
// as a second factor under s.
func (s Settings) UpstreamMFA(classRef string) bool {
	return s.TrustMFA && strings.TrimSpace(classRef) == REFEDSMFA
}

// MaxMetadataBytes bounds an IdP metadata document. Entra ID's, the
// largest in common use, is tens of kilobytes.
const MaxMetadataBytes = 1 << 20

// Endpoint is a SAML endpoint of an upstream IdP (SAML Metadata §2.2.2).
type Endpoint struct {
	Binding          string `json:"binding"`
	Location         string `json:"location"`
	ResponseLocation string `json:"response_location,omitempty"`
}

// Upstream is what the SP needs from an upstream IdP's metadata.
type Upstream struct {
	EntityID string
	// SSO and SLO are the endpoints with the HTTP-Redirect or HTTP-POST
	// binding, in document order; other bindings are left out.
	SSO []Endpoint
	SLO []Endpoint
	// Certs are the signing certificates: those of KeyDescriptors with
	// use "signing" or no use. During a rollover there are two.
	Certs []*x509.Certificate
	// ValidUntil is the metadata's validUntil; zero when absent.
	ValidUntil time.Time
}

// ParseMetadata reads an IdP's metadata (SAML Metadata §2.3.2, §2.4.3): an
// EntityDescriptor, or an EntitiesDescriptor holding exactly one entity
// with an IDPSSODescriptor. Only IDPSSODescriptors supporting SAML 2.0 are
// read. It refuses a DOCTYPE or any other declaration, documents over
// MaxMetadataBytes, and metadata without an SSO endpoint of a binding we
// send with or without a signing certificate. The metadata's own signature
// is not checked: trust comes from where the operator got the document.
func ParseMetadata(doc []byte) (Upstream, error) {
	u, _, err := parseMetadata(doc)
	return u, err
}

// parseMetadata is ParseMetadata that also returns the entity as crewjam
// reads it, for the ServiceProvider that sends our requests.
func parseMetadata(doc []byte) (Upstream, *saml.EntityDescriptor, error) {
	if len(doc) > MaxMetadataBytes {
		return Upstream{}, nil, fmt.Errorf("sp: metadata: %d bytes, more than %d", len(doc), MaxMetadataBytes)
	}
	root, err := scanMetadata(doc)
	if err != nil {
		return Upstream{}, nil, err
	}
	ed, err := oneIdPEntity(doc, root)
	if err != nil {
		return Upstream{}, nil, err
	}
	u, err := upstream(ed)
	return u, ed, err
}

// scanMetadata reads every token once (package xmlcheck), refusing
// declarations (XXE, billion laughs), excess depth, repeated attributes and
// a second root; it returns the root element's name.
func scanMetadata(doc []byte) (xml.Name, error) {
	root, err := xmlcheck.Check(doc, maxDepth)
	if err != nil {
		return root, fmt.Errorf("sp: metadata: %w", err)
	}
	return root, nil
}

// oneIdPEntity decodes the one entity of doc that has an IDPSSODescriptor.
func oneIdPEntity(doc []byte, root xml.Name) (*saml.EntityDescriptor, error) {
	const md = "urn:oasis:names:tc:SAML:2.0:metadata"
	if root.Space == md && root.Local == "EntityDescriptor" {
		var ed saml.EntityDescriptor
		if err := xml.Unmarshal(doc, &ed); err != nil {
			return nil, fmt.Errorf("sp: metadata: not a SAML EntityDescriptor: %w", err)
		}
		return &ed, nil
	}
	if root.Space != md || root.Local != "EntitiesDescriptor" {
		return nil, fmt.Errorf("sp: metadata: root element is {%s}%s, not a SAML EntityDescriptor or EntitiesDescriptor",
			root.Space, root.Local)
	}
	var eds saml.EntitiesDescriptor
	if err := xml.Unmarshal(doc, &eds); err != nil {
		return nil, fmt.Errorf("sp: metadata: not a SAML EntitiesDescriptor: %w", err)
	}
	var found []*saml.EntityDescriptor
	collectIdPs(&eds, &found)
	switch len(found) {
	case 0:
		return nil, errors.New("sp: metadata: the EntitiesDescriptor holds no entity with an IDPSSODescriptor")
	case 1:
		return found[0], nil
	}
	ids := make([]string, 0, len(found))
	for _, ed := range found {
		ids = append(ids, ed.EntityID)
	}
	return nil, fmt.Errorf("sp: metadata: the EntitiesDescriptor holds %d identity providers (%s); register one at a time",
		len(found), strings.Join(ids, ", "))
}

func collectIdPs(eds *saml.EntitiesDescriptor, found *[]*saml.EntityDescriptor) {
	for i := range eds.EntityDescriptors {
		if len(eds.EntityDescriptors[i].IDPSSODescriptors) > 0 {
			*found = append(*found, &eds.EntityDescriptors[i])
		}
	}
	for i := range eds.EntitiesDescriptors {
		collectIdPs(&eds.EntitiesDescriptors[i], found)
	}
}

// upstream takes what the SP needs from the SAML 2.0 IDPSSODescriptors of
// ed and checks that it is enough.
func upstream(ed *saml.EntityDescriptor) (Upstream, error) {
	u := Upstream{EntityID: strings.TrimSpace(ed.EntityID), ValidUntil: ed.ValidUntil}
	if u.EntityID == "" {
		return u, errors.New("sp: metadata: the EntityDescriptor has no entityID")
	}
	if len(ed.IDPSSODescriptors) == 0 {
		return u, fmt.Errorf("sp: metadata: %s has no IDPSSODescriptor: this is not an identity provider's metadata", u.EntityID)
	}
	saml2 := 0
	for _, d := range ed.IDPSSODescriptors {
		if !slices.Contains(strings.Fields(d.ProtocolSupportEnumeration), "urn:oasis:names:tc:SAML:2.0:protocol") {
			continue
		}
		saml2++
		if err := u.add(d); err != nil {
			return u, err
		}
	}
	switch {
	case saml2 == 0:
		return u, fmt.Errorf("sp: metadata: no IDPSSODescriptor of %s supports SAML 2.0 (protocolSupportEnumeration)", u.EntityID)
	case len(u.SSO) == 0:
		return u, fmt.Errorf("sp: metadata: %s has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding", u.EntityID)
	case len(u.Certs) == 0:
		return u, fmt.Errorf("sp: metadata: %s has no signing certificate (a KeyDescriptor with use=\"signing\" or no use)", u.EntityID)
	}
	return u, nil
}

// add appends the usable endpoints and signing certificates of d.
func (u *Upstream) add(d saml.IDPSSODescriptor) error {
	var err error
	if u.SSO, err = endpoints(u.SSO, "SingleSignOnService", d.SingleSignOnServices); err != nil {
		return err
	}
	if u.SLO, err = endpoints(u.SLO, "SingleLogoutService", d.SingleLogoutServices); err != nil {
		return err
	}
	for _, kd := range d.KeyDescriptors {
		if kd.Use != "" && kd.Use != "signing" {
			continue
		}
		for _, c := range kd.KeyInfo.X509Data.X509Certificates {
			cert, err := parseCert(c.Data)
			if err != nil {
				return fmt.Errorf("sp: metadata: signing certificate of %s: %w", u.EntityID, err)
			}
			if !slices.ContainsFunc(u.Certs, cert.Equal) {
				u.Certs = append(u.Certs, cert)
			}
		}
	}
	return nil
}

// endpoints appends the HTTP-Redirect and HTTP-POST endpoints of eps to
// out, refusing a location that is not an absolute http(s) URL.
func endpoints(out []Endpoint, kind string, eps []saml.Endpoint) ([]Endpoint, error) {
	for _, ep := range eps {
		e := Endpoint{Binding: strings.TrimSpace(ep.Binding), Location: strings.TrimSpace(ep.Location),
			ResponseLocation: strings.TrimSpace(ep.ResponseLocation)}
		if e.Binding != saml.HTTPRedirectBinding && e.Binding != saml.HTTPPostBinding {
			continue
		}
		if !absoluteHTTP(e.Location) || (e.ResponseLocation != "" && !absoluteHTTP(e.ResponseLocation)) {
			return out, fmt.Errorf("sp: metadata: %s location %q (response location %q) is not an absolute http(s) URL",
				kind, e.Location, e.ResponseLocation)
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

func absoluteHTTP(loc string) bool {
	u, err := url.Parse(loc)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// parseCert decodes the base64 DER of a ds:X509Certificate, which may be
// wrapped in lines.
func parseCert(data string) (*x509.Certificate, error) {
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(data), ""))
	if err != nil {
		return nil, fmt.Errorf("not base64: %w", err)
	}
	return x509.ParseCertificate(der)
}

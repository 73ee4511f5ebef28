package sp

import (
	"crypto/rsa"
	"crypto/x509"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// SignedParts says which part of a Response the registered IdP signs. The
// zero value, SignedEither, still requires one verified signature.
type SignedParts int

// The parts a signature may cover.
const (
	SignedEither    SignedParts = iota // the Response, the Assertion or both
	SignedResponse                     // the Response (the Assertion may be signed too)
	SignedAssertion                    // the Assertion (the Response may be signed too)
	SignedBoth                         // both
)

// Expect is what a Response must match.
type Expect struct {
	EntityID    string // our SP entity ID: the Audience
	ACS         string // our ACS URL: Destination and SubjectConfirmationData Recipient
	IdPEntityID string // the registered IdP's entity ID: every Issuer
	// Certs are the registered IdP's signing certificates; a certificate
	// in the message's KeyInfo is never used.
	Certs []*x509.Certificate
	Want  SignedParts
	// DecryptionKeys are our SP's private keys (the current one first, then
	// those of certificates still published for encryption); with none,
	// encrypted content is refused as ReasonEncryptedUnsupported.
	DecryptionKeys []*rsa.PrivateKey
	// RequestIDs reports whether id is an AuthnRequest we issued to this
	// browser and not yet answered (it may consume id). It is called last,
	// once everything else passed. Nil allows only unsolicited Responses,
	// without InResponseTo.
	RequestIDs func(id string) bool
	// AllowUnsolicited also accepts, beside answers to RequestIDs, a
	// Response without any InResponseTo (IdP-initiated login).
	AllowUnsolicited bool
	Now              time.Time
	// Skew is the clock skew allowed on NotBefore, NotOnOrAfter and
	// IssueInstant.
	Skew time.Duration
}

// Assertion is what a verified Response says about the user.
type Assertion struct {
	ID                   string // for the replay cache, until NotOnOrAfter
	Issuer               string
	NameID               string
	NameIDFormat         string
	SessionIndex         string
	AuthnContextClassRef string
	AuthnInstant         time.Time
	// NotOnOrAfter is the earliest of the Conditions and bearer
	// SubjectConfirmationData limits: how long to remember ID.
	NotOnOrAfter time.Time
	Attributes   map[string][]string
}

// ParseResponse decodes and validates the SAMLResponse form field of the
// HTTP-POST binding (Profiles §4.1.4) and returns its one assertion. Every
// refusal is an *Error with its Reason.
func ParseResponse(samlResponse string, e Expect) (*Assertion, error) {
	return ParseResponseFrom(samlResponse, func(string) (Expect, error) { return e, nil })
}

// ParseResponseFrom is ParseResponse for an SP with several upstream IdPs:
// once the message is decoded and its layout checked, expect is given the
// issuer it claims (the Response's Issuer, or its Assertion's when the
// Response has none) and returns what that IdP's Response must match. The
// claim picks the certificates only; the Issuer is then checked like any
// other field, against the verified copy. An error from expect is returned
// as it is (say an unknown IdP, or a store failure).
func ParseResponseFrom(samlResponse string, expect func(issuer string) (Expect, error)) (*Assertion, error) {
	root, err := decode(samlResponse)
	if err != nil {
		return nil, err
	}
	if err := checkShape(root); err != nil {
		return nil, err
	}
	e, err := expect(claimedIssuer(root))
	if err != nil {
		return nil, err
	}
	if err := checkStatus(root); err != nil {
		return nil, err
	}
	resp, asrt, respSigned, err := e.verified(root)
	if err != nil {
		return nil, err
	}
	inResponseTo, err := e.checkResponse(resp, respSigned)
	if err != nil {
		return nil, err
	}
	a, scdInResponseTo, err := e.readAssertion(asrt)
	if err != nil {
		return nil, err
	}
	return a, e.checkInResponseTo(inResponseTo, scdInResponseTo)
}

// verified returns the Response and its Assertion as their signatures cover
// them. A signed Response is verified first and its Assertion, or its
// EncryptedAssertion to decrypt, taken from the verified copy; a signed
// Assertion is then verified as found there (decrypted).
func (e Expect) verified(resp *etree.Element) (_, _ *etree.Element, respSigned bool, _ error) {
	if len(e.DecryptionKeys) == 0 && len(children(resp, samlNS, "EncryptedAssertion")) > 0 {
		return nil, nil, false, refuse(ReasonEncryptedUnsupported, "EncryptedAssertion, and no DecryptionKeys")
	}
	respSigned = signed(resp)
	switch {
	case respSigned:
		v, err := verify(resp, e.Certs, e.Now)
		if err != nil {
			return nil, nil, false, err
		}
		resp = v
	case e.Want == SignedResponse || e.Want == SignedBoth:
		// Refused before anything is decrypted: an IdP whose Response is
		// signed leaves an attacker no unsigned ciphertext to probe.
		return nil, nil, false, refuse(ReasonSignature, "the Response is not signed")
	}
	asrt, cbc, err := e.assertionIn(resp)
	if err != nil {
		return nil, nil, false, err
	}
	asrtSigned := signed(asrt)
	if asrtSigned {
		if asrt, err = verify(asrt, e.Certs, e.Now); err != nil {
			return nil, nil, false, err
		}
	}
	return resp, asrt, respSigned, e.checkSigned(respSigned, asrtSigned, cbc)
}

// checkSigned applies Want. An AES-CBC ciphertext has no integrity of its
// own, so a signature must cover it (as crewjam's checkCBCIntegrity); the
// rule that one part be signed implies it today, and the explicit case
// keeps it if that rule is ever relaxed.
func (e Expect) checkSigned(respSigned, asrtSigned, cbc bool) error {
	switch {
	case cbc && !respSigned && !asrtSigned:
		return refuse(ReasonSignature, "AES-CBC EncryptedAssertion with neither the Response nor the decrypted Assertion signed")
	case !respSigned && !asrtSigned:
		return refuse(ReasonSignature, "neither the Response nor the Assertion is signed")
	case (e.Want == SignedResponse || e.Want == SignedBoth) && !respSigned:
		return refuse(ReasonSignature, "the Response is not signed")
	case (e.Want == SignedAssertion || e.Want == SignedBoth) && !asrtSigned:
		return refuse(ReasonSignature, "the Assertion is not signed")
	}
	return nil
}

// checkResponse checks the Response's own fields (SAML Core §3.2.2,
// Bindings §3.5.5.2) and returns its InResponseTo.
func (e Expect) checkResponse(resp *etree.Element, respSigned bool) (string, error) {
	if v := attr(resp, "Version"); v != "2.0" {
		return "", refuse(ReasonMalformed, "Response Version %q", v)
	}
	if err := e.checkIssued(resp); err != nil {
		return "", err
	}
	dest := attr(resp, "Destination")
	switch {
	case dest == "" && respSigned:
		return "", refuse(ReasonDestination, "signed Response without Destination")
	case dest != "" && dest != e.ACS:
		return "", refuse(ReasonDestination, "Destination %q, want %q", dest, e.ACS)
	}
	issuer, err := optional(resp, samlNS, "Issuer")
	if err != nil || issuer == nil {
		return attr(resp, "InResponseTo"), err
	}
	return attr(resp, "InResponseTo"), e.checkIssuer(issuer, "Response")
}

// checkIssued checks ID and that IssueInstant is not in the future.
func (e Expect) checkIssued(el *etree.Element) error {
	if attr(el, "ID") == "" {
		return refuse(ReasonMalformed, "<%s> has no ID", el.Tag)
	}
	at, err := instant(el, "IssueInstant")
	switch {
	case err != nil:
		return err
	case at.IsZero():
		return refuse(ReasonMalformed, "<%s> has no IssueInstant", el.Tag)
	case at.After(e.Now.Add(e.Skew)):
		return refuse(ReasonNotYetValid, "<%s> IssueInstant %s is after now %s", el.Tag, at, e.Now)
	}
	return nil
}

func (e Expect) checkIssuer(issuer *etree.Element, of string) error {
	v, err := text(issuer)
	if err != nil {
		return err
	}
	if v != e.IdPEntityID {
		return refuse(ReasonIssuer, "%s Issuer %q, want %q", of, v, e.IdPEntityID)
	}
	return nil
}

// checkInResponseTo matches the Response's and the bearer confirmation's
// InResponseTo (Profiles §4.1.4.2, §4.1.4.3) with our requests.
func (e Expect) checkInResponseTo(resp, scd string) error {
	switch {
	case e.RequestIDs == nil && (resp != "" || scd != ""):
		return refuse(ReasonInResponseTo, "InResponseTo %q/%q where only unsolicited Responses are expected", resp, scd)
	case e.RequestIDs == nil:
		return nil
	case scd == "" && resp == "" && e.AllowUnsolicited:
		return nil
	case scd == "":
		return refuse(ReasonInResponseTo, "unsolicited Response (no InResponseTo) refused")
	case resp != scd:
		return refuse(ReasonInResponseTo, "Response InResponseTo %q differs from the Assertion's %q", resp, scd)
	case !e.RequestIDs(scd):
		return refuse(ReasonInResponseTo, "InResponseTo %q is not a pending request of ours (replayed or forged)", scd)
	}
	return nil
}

// claimedIssuer is the issuer an unverified Response claims, to choose the
// IdP whose certificates verify it: the Response's Issuer, or else its
// Assertion's. checkShape has run: the Assertion is a direct child.
func claimedIssuer(root *etree.Element) string {
	for _, el := range append([]*etree.Element{root}, children(root, samlNS, "Assertion")...) {
		for _, c := range children(el, samlNS, "Issuer") {
			if v, err := text(c); err == nil {
				return strings.TrimSpace(v)
			}
		}
	}
	return ""
}

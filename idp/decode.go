package idp

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/portcullis/portcullis/xmlcheck"
)

// MaxMessageBytes bounds a SAML message twice: the base64 text of
// SAMLRequest as received, and the XML after base64 decoding and (for
// HTTP-Redirect) inflating. crewjam/saml inflates up to 1 MiB and does not
// bound the form field at all; a real AuthnRequest is a few kilobytes.
const MaxMessageBytes = 256 << 10

const (
	samlpNS = "urn:oasis:names:tc:SAML:2.0:protocol"
	samlNS  = "urn:oasis:names:tc:SAML:2.0:assertion"
	dsigNS  = "http://www.w3.org/2000/09/xmldsig#"
)

// Errors of DecodeRequest, each a precise reason for the audit trail.
var (
	errNoRequest   = errors.New("no SAMLRequest")
	errOversized   = fmt.Errorf("SAMLRequest larger than %d bytes", MaxMessageBytes)
	errInflateBomb = fmt.Errorf("SAMLRequest inflates beyond %d bytes (deflate bomb)", MaxMessageBytes)
	errDoctype     = errors.New("DOCTYPE or entity declaration in the SAML message (XXE, entity expansion)")
)

func notMessage(root string) error {
	return fmt.Errorf("SAML message is not a samlp:%s", root)
}

// RequestInfo is what the IdP reads from an AuthnRequest before handing it
// to crewjam/saml: enough to log and audit a refusal precisely and to apply
// the configured clock skew.
type RequestInfo struct {
	ID          string
	Issuer      string
	Destination string
	// ACS is the AssertionConsumerServiceURL asked for, if any.
	ACS          string
	IssueInstant time.Time
	ForceAuthn   bool
	IsPassive    bool
	// Signed is true when the XML carries an enveloped ds:Signature.
	Signed bool
}

// DecodeRequest turns the SAMLRequest parameter into XML and inspects it.
// redirect selects the HTTP-Redirect encoding (base64 of raw DEFLATE,
// saml-bindings §3.4.4.1) over HTTP-POST (plain base64, §3.5.4). Sizes are
// bounded before and after inflating, and any DTD is refused: no AuthnRequest
// needs one, and encoding/xml leaving entities unexpanded is not a reason to
// accept them.
func DecodeRequest(encoded string, redirect bool) ([]byte, RequestInfo, error) {
	raw, err := decodeMessage(encoded, redirect)
	if err != nil {
		return nil, RequestInfo{}, err
	}
	info, err := inspect(raw, "AuthnRequest")
	return raw, info, err
}

// decodeMessage undoes the binding's encoding of any SAML message.
func decodeMessage(encoded string, redirect bool) ([]byte, error) {
	switch {
	case encoded == "":
		return nil, errNoRequest
	case len(encoded) > base64.StdEncoding.EncodedLen(MaxMessageBytes):
		return nil, errOversized
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, fmt.Errorf("SAML message is not base64: %w", err)
	}
	if redirect {
		return inflate(raw)
	}
	if len(raw) > MaxMessageBytes {
		return nil, errOversized
	}
	return raw, nil
}

// inflate reads at most MaxMessageBytes+1 bytes, so that a bomb costs no more
// than a legitimate message.
func inflate(compressed []byte) ([]byte, error) {
	fr := flate.NewReader(bytes.NewReader(compressed))
	defer fr.Close()
	out, err := io.ReadAll(io.LimitReader(fr, MaxMessageBytes+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("SAMLRequest is not DEFLATE data: %w", err)
	case len(out) > MaxMessageBytes:
		return nil, errInflateBomb
	}
	return out, nil
}

// inspect checks that doc is one well-formed samlp message named root
// (AuthnRequest, LogoutRequest, LogoutResponse) without a DTD, and reads its
// identifying fields.
func inspect(doc []byte, root string) (RequestInfo, error) {
	var info RequestInfo
	d := xml.NewDecoder(bytes.NewReader(doc))
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return info, fmt.Errorf("SAML message is not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return info, errDoctype
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			if roots > 1 {
				return info, errors.New("SAMLRequest has more than one root element")
			}
			if err := info.visit(d, t, depth, root); err != nil {
				return info, err
			}
			if !isIssuer(t, depth) {
				depth++ // DecodeElement consumed the Issuer's end tag
			}
		case xml.EndElement:
			depth--
		}
	}
	if roots == 0 {
		return info, notMessage(root)
	}
	return info, nil
}

func isIssuer(t xml.StartElement, depth int) bool {
	return depth == 1 && t.Name.Space == samlNS && t.Name.Local == "Issuer"
}

// visit reads the root element's attributes and its Issuer and Signature
// children.
func (info *RequestInfo) visit(d *xml.Decoder, t xml.StartElement, depth int, root string) error {
	switch {
	case depth == 0 && (t.Name.Space != samlpNS || t.Name.Local != root):
		return notMessage(root)
	case depth == 0:
		return info.readRoot(t)
	case isIssuer(t, depth):
		var s string
		if err := d.DecodeElement(&s, &t); err != nil {
			return fmt.Errorf("SAMLRequest Issuer: %w", err)
		}
		info.Issuer = strings.TrimSpace(s)
	case depth == 1 && t.Name.Space == dsigNS && t.Name.Local == "Signature":
		info.Signed = true
	}
	return nil
}

func (info *RequestInfo) readRoot(t xml.StartElement) error {
	for _, a := range t.Attr {
		if a.Name.Space != "" {
			continue
		}
		switch a.Name.Local {
		case "ID":
			info.ID = a.Value
		case "Destination":
			info.Destination = a.Value
		case "AssertionConsumerServiceURL":
			info.ACS = a.Value
		case "ForceAuthn":
			info.ForceAuthn = a.Value == "true" || a.Value == "1"
		case "IsPassive":
			info.IsPassive = a.Value == "true" || a.Value == "1"
		case "IssueInstant":
			at, err := time.Parse(time.RFC3339Nano, a.Value)
			if err != nil {
				return fmt.Errorf("SAMLRequest IssueInstant %q: %w", a.Value, err)
			}
			info.IssueInstant = at
		}
	}
	return nil
}

// checkDTD refuses any DOCTYPE or entity declaration in an XML document
// from outside, such as an app's metadata, and anything not one
// well-formed document (package xmlcheck).
func checkDTD(doc []byte) error {
	_, err := xmlcheck.Check(doc, 0)
	return err
}

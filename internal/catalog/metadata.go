package catalog

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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

// ParseMetadata reads SAML SP metadata (SAML Metadata §2.3.2, §2.4.4): one
// EntityDescriptor with an entity ID and at least one SPSSODescriptor with
// an AssertionConsumerService at an absolute http(s) URL. It refuses
// documents with a DOCTYPE or any other declaration (entity expansion has
// no place in metadata) and metadata whose validUntil is before now.
func ParseMetadata(doc []byte, now time.Time) (*saml.EntityDescriptor, error) {
	ed, err := decode(doc)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(ed.EntityID) == "" {
		return nil, errors.New("metadata: the EntityDescriptor has no entityID")
	}
	if len(ed.SPSSODescriptors) == 0 {
		return nil, errors.New("metadata: no SPSSODescriptor: this is not a service provider's metadata")
	}
	if !ed.ValidUntil.IsZero() && ed.ValidUntil.Before(now) {
		return nil, fmt.Errorf("metadata: expired at %s (validUntil)", ed.ValidUntil.UTC().Format(time.RFC3339))
	}
	acs := ACSURLs(ed)
	if len(acs) == 0 {
		return nil, errors.New("metadata: the SPSSODescriptor has no AssertionConsumerService")
	}
	for _, loc := range acs {
		if u, err := url.Parse(loc); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("metadata: AssertionConsumerService %q is not an absolute http(s) URL", loc)
		}
	}
	return ed, nil
}

// decode unmarshals an EntityDescriptor after refusing declarations.
func decode(doc []byte) (*saml.EntityDescriptor, error) {
	if err := refuseDirectives(doc); err != nil {
		return nil, err
	}
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(doc, &ed); err != nil {
		return nil, fmt.Errorf("metadata: not a SAML EntityDescriptor: %w", err)
	}
	return &ed, nil
}

// refuseDirectives fails on any <!...> declaration (DOCTYPE, ENTITY), on
// XML that is not one well-formed document, and on repeated attributes
// (package xmlcheck).
func refuseDirectives(doc []byte) error {
	if _, err := xmlcheck.Check(doc, 0); err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	return nil
}

// StoredACSURLs lists the ACS URLs of metadata as the store keeps it; nil
// when it no longer parses.
func StoredACSURLs(doc string) []string {
	ed, err := decode([]byte(doc))
	if err != nil {
		return nil
	}
	return ACSURLs(ed)
}

// ACSURLs lists the AssertionConsumerService locations of every
// SPSSODescriptor, in document order, without repeats.
func ACSURLs(ed *saml.EntityDescriptor) []string {
	var out []string
	for _, sp := range ed.SPSSODescriptors {
		for _, acs := range sp.AssertionConsumerServices {
			if loc := strings.TrimSpace(acs.Location); loc != "" && !slices.Contains(out, loc) {
				out = append(out, loc)
			}
		}
	}
	return out
}

// CertFingerprints lists the SHA-256 fingerprints (hex) of the
// certificates in the SP's key descriptors, sorted, so that two documents
// can be compared for a change of keys.
func CertFingerprints(ed *saml.EntityDescriptor) []string {
	var out []string
	for _, sp := range ed.SPSSODescriptors {
		for _, kd := range sp.KeyDescriptors {
			for _, c := range kd.KeyInfo.X509Data.X509Certificates {
				der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c.Data), ""))
				if err != nil {
					continue
				}
				sum := sha256.Sum256(der)
				out = append(out, kd.Use+":"+hex.EncodeToString(sum[:]))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

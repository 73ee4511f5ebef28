package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseMetadata(t *testing.T) {
	ed, err := ParseMetadata(readTestdata(t, "sp.xml"), now)
	if err != nil {
		t.Fatal(err)
	}
	if ed.EntityID != "https://wiki.example.com/saml" {
		t.Errorf("entity ID %q", ed.EntityID)
	}
	if got := strings.Join(ACSURLs(ed), " "); got != "https://wiki.example.com/saml/acs https://wiki.example.com/saml/acs-redirect" {
		t.Errorf("ACS URLs %s", got)
	}
	if fps := CertFingerprints(ed); len(fps) != 1 || !strings.HasPrefix(fps[0], "signing:") {
		t.Errorf("certificate fingerprints %v", fps)
	}
}

// TestParseMetadataRejects is the corpus of metadata that must be refused,
// each for a reason the operator can act on.
func TestParseMetadataRejects(t *testing.T) {
	for file, want := range map[string]string{
		"doctype.xml":         "<!DOCTYPE> declaration",
		"idp.xml":             "not a service provider",
		"no_acs.xml":          "no AssertionConsumerService",
		"expired.xml":         "expired at 2020-01-01",
		"script_acs.xml":      "javascript",
		"aggregate.xml":       "not a SAML EntityDescriptor",
		"no_entity_id.xml":    "no entityID",
		"wrong_namespace.xml": "not a SAML EntityDescriptor",
	} {
		_, err := ParseMetadata(readTestdata(t, file), now)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to say %q", file, err, want)
		}
	}
	relative := strings.Replace(string(readTestdata(t, "sp.xml")), "https://wiki.example.com/saml/acs-redirect", "/acs", 1)
	if _, err := ParseMetadata([]byte(relative), now); err == nil || !strings.Contains(strings.ToLower(err.Error()), "url") {
		t.Errorf("relative ACS URL: %v", err)
	}
	for name, doc := range map[string]string{
		"empty":       "",
		"not XML":     "{\"entityID\": 1}",
		"unclosed":    `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x">`,
		"entity decl": `<!ENTITY x "y"><EntityDescriptor/>`,
		"latin-1":     `<?xml version="1.0" encoding="ISO-8859-1"?><EntityDescriptor/>`,
	} {
		if _, err := ParseMetadata([]byte(doc), now); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzParseMetadata checks that no input panics and that whatever is
// accepted has what the catalogue relies on.
func FuzzParseMetadata(f *testing.F) {
	for _, file := range []string{"sp.xml", "idp.xml", "doctype.xml", "no_acs.xml", "aggregate.xml"} {
		f.Add(readTestdata(f, file))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		ed, err := ParseMetadata(doc, now)
		if err != nil {
			return
		}
		if ed.EntityID == "" || len(ACSURLs(ed)) == 0 {
			t.Errorf("accepted metadata without entity ID or ACS: %q", doc)
		}
	})
}

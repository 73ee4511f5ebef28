package idp_test

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/idp"
)

const validRequest = `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="id-1" Version="2.0" IssueInstant="2027-01-02T03:04:05Z" Destination="https://sso.example.com/saml/sso" ForceAuthn="true" AssertionConsumerServiceURL="https://wiki.example.com/acs"><saml:Issuer> https://wiki.example.com/metadata </saml:Issuer></samlp:AuthnRequest>`

func deflate(b []byte) []byte {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	fw.Write(b)
	fw.Close()
	return buf.Bytes()
}

func enc(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestDecodeRequest(t *testing.T) {
	_, info, err := idp.DecodeRequest(enc(deflate([]byte(validRequest))), true)
	if err != nil {
		t.Fatal(err)
	}
	if info.ID != "id-1" || info.Issuer != "https://wiki.example.com/metadata" || !info.ForceAuthn || info.IsPassive ||
		info.ACS != "https://wiki.example.com/acs" || info.IssueInstant.Year() != 2027 || info.Signed {
		t.Errorf("info = %+v", info)
	}
	if _, _, err := idp.DecodeRequest(enc([]byte(validRequest)), false); err != nil {
		t.Errorf("POST encoding: %v", err)
	}
}

func TestDecodeBounds(t *testing.T) {
	pad := func(n int) []byte {
		doc := []byte(validRequest)
		return append(doc, bytes.Repeat([]byte(" "), n-len(doc))...)
	}
	if _, _, err := idp.DecodeRequest(enc(deflate(pad(idp.MaxMessageBytes))), true); err != nil {
		t.Errorf("exactly MaxMessageBytes inflated: %v", err)
	}
	if _, _, err := idp.DecodeRequest(enc(deflate(pad(idp.MaxMessageBytes+1))), true); err == nil || !strings.Contains(err.Error(), "deflate bomb") {
		t.Errorf("one byte more: %v", err)
	}
	if _, _, err := idp.DecodeRequest(enc(pad(idp.MaxMessageBytes+1)), false); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized POST: %v", err)
	}
}

// FuzzDecodeRequest feeds arbitrary SAMLRequest values to the parser that
// sees every request first. Its seeds (the corpus of testdata/*.xml, both
// encodings) run in every go test.
func FuzzDecodeRequest(f *testing.F) {
	f.Add(enc(deflate([]byte(validRequest))), true)
	f.Add(enc([]byte(validRequest)), false)
	files, _ := filepath.Glob("testdata/*.xml")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc(b), false)
		f.Add(enc(deflate(b)), true)
	}
	f.Fuzz(func(t *testing.T, encoded string, redirect bool) {
		doc, info, err := idp.DecodeRequest(encoded, redirect)
		if err != nil {
			return
		}
		if len(doc) > idp.MaxMessageBytes {
			t.Fatalf("accepted %d bytes", len(doc))
		}
		if bytes.Contains(bytes.ToUpper(doc), []byte("<!DOCTYPE")) || bytes.Contains(bytes.ToUpper(doc), []byte("<!ENTITY")) {
			t.Fatalf("accepted a DTD: %q", doc)
		}
		if !bytes.Contains(doc, []byte("AuthnRequest")) {
			t.Fatalf("accepted something that is not an AuthnRequest: %q (%+v)", doc, info)
		}
	})
}

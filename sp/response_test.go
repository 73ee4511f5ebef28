package sp

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestParseResponseValid(t *testing.T) {
	idp := loadKey(t, "idp")
	b := str(t, signer{kp: idp}.sign(t, goodMsg().xml(), SignedAssertion))
	a, err := ParseResponse(encode(b), expect(idp.cert))
	if err != nil {
		t.Fatal(err)
	}
	want := &Assertion{ID: "_asrt-1", Issuer: idpEntity, NameID: "alice@example.org",
		NameIDFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress", SessionIndex: "_sess-1",
		AuthnContextClassRef: "https://refeds.org/profile/mfa", AuthnInstant: now.Add(-10 * time.Second),
		NotOnOrAfter: now.Add(5 * time.Minute),
		Attributes:   map[string][]string{"email": {"alice@example.org"}, "groups": {"staff", "admins"}}}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("got  %+v\nwant %+v", a, want)
	}
}

func TestParseResponseOptions(t *testing.T) {
	idp, other := loadKey(t, "idp"), loadKey(t, "other")
	signed := func(m msg, parts SignedParts) string {
		return encode(str(t, signer{kp: idp}.sign(t, m.xml(), parts)))
	}
	unsolicited := with(func(m *msg) { m.RespIRT, m.SCDIRT = "", "" })
	tests := []struct {
		name   string
		resp   string
		change func(*Expect)
		want   Reason
	}{
		{"want response, assertion signed", signed(goodMsg(), SignedAssertion), func(e *Expect) { e.Want = SignedResponse }, ReasonSignature},
		{"want assertion, response signed", signed(goodMsg(), SignedResponse), func(e *Expect) { e.Want = SignedAssertion }, ReasonSignature},
		{"want both, both signed", signed(goodMsg(), SignedBoth), func(e *Expect) { e.Want = SignedBoth }, ""},
		{"want both, response signed", signed(goodMsg(), SignedResponse), func(e *Expect) { e.Want = SignedBoth }, ReasonSignature},
		{"unsigned", encode(goodMsg().xml()), nil, ReasonSignature},
		{"rollover: second registered cert", signed(goodMsg(), SignedAssertion), func(e *Expect) { e.Certs = []*x509.Certificate{other.cert, idp.cert} }, ""},
		{"no registered cert", signed(goodMsg(), SignedAssertion), func(e *Expect) { e.Certs = nil }, ReasonSignature},
		{"unsolicited allowed", signed(unsolicited, SignedAssertion), func(e *Expect) { e.RequestIDs = nil }, ""},
		{"solicited where only unsolicited", signed(goodMsg(), SignedAssertion), func(e *Expect) { e.RequestIDs = nil }, ReasonInResponseTo},
		{"expiry within skew", signed(goodMsg(), SignedAssertion), func(e *Expect) { e.Now = now.Add(5*time.Minute + 80*time.Second) }, ""},
		{"expiry beyond skew", signed(goodMsg(), SignedAssertion), func(e *Expect) { e.Now = now.Add(5*time.Minute + 90*time.Second) }, ReasonExpired},
		{"issued in the future", signed(goodMsg(), SignedAssertion), func(e *Expect) { e.Now = now.Add(-3 * time.Minute) }, ReasonNotYetValid},
		{"registered cert expired", signed(goodMsg(), SignedAssertion), func(e *Expect) { e.Now = time.Date(2101, 1, 1, 0, 0, 0, 0, time.UTC) }, ReasonSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := expect(idp.cert)
			if tt.change != nil {
				tt.change(&e)
			}
			_, err := ParseResponse(tt.resp, e)
			if ReasonOf(err) != tt.want {
				t.Fatalf("got %v, want reason %q", err, tt.want)
			}
		})
	}
}

// TestWrappingWithoutShapeCheck shows the second line of defence: with the
// layout check skipped, no XSW file yields the attacker's identity, because
// only what a signature covers is read.
func TestWrappingWithoutShapeCheck(t *testing.T) {
	idp := loadKey(t, "idp")
	files, _ := filepath.Glob(filepath.Join("testdata", "attacks", "xsw*.xml"))
	if len(files) != 8 {
		t.Fatalf("%d XSW files, want 8", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		root, err := decode(encode(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		e := expect(idp.cert)
		_, asrt, _, err := e.verified(root)
		if err != nil {
			continue
		}
		a, _, err := e.readAssertion(asrt)
		if err == nil && a.NameID == evil {
			t.Errorf("%s: the signature check alone let %s through", f, evil)
		}
	}
}

func TestDecodeLimits(t *testing.T) {
	deep := "<a>"
	for range maxDepth + 1 {
		deep = "<a>" + deep + "</a>"
	}
	for _, tt := range []struct {
		name, in string
		want     Reason
	}{
		{"empty", "", ReasonMalformed},
		{"two roots", encode("<a/><b/>"), ReasonMalformed},
		{"duplicate attribute", encode(`<a ID="1" ID="2"/>`), ReasonMalformed},
		{"too deep", encode(deep), ReasonMalformed},
		{"field too long", string(make([]byte, 2*MaxResponseBytes+1)), ReasonTooLarge},
		{"not a Response", encode(`<samlp:AuthnRequest xmlns:samlp="` + samlpNS + `"/>`), ReasonMalformed},
	} {
		root, err := decode(tt.in)
		if err == nil {
			err = checkShape(root)
		}
		if ReasonOf(err) != tt.want {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.want)
		}
	}
}

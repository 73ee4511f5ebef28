package sp

import (
	"crypto/rsa"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"
)

// attack is one corpus file: a Response built from a valid signed one,
// and what ParseResponse must answer: a Reason, or "ok" with the NameID it
// must return (the identity an attack tried to change).
type attack struct {
	name, what string
	expect     string // a Reason, or "ok"
	nameID     string // for "ok"
	transport  string // "corrupt-base64": the file's base64 is broken in transit
	build      func(t testing.TB, w world) string
}

// world is the keys a corpus is built with: the registered IdP's, another
// (unregistered) signer's, and our SP's encryption key.
type world struct{ idp, other, sp keyPair }

func (w world) good(t testing.TB, m msg, parts SignedParts) *etree.Document {
	return signer{kp: w.idp}.sign(t, m.xml(), parts)
}

func (w world) signedString(m msg, parts SignedParts) func(testing.TB, world) string {
	return func(t testing.TB, w world) string { return str(t, w.good(t, m, parts)) }
}

// mutate builds a signed Response and changes it with f.
func mutate(parts SignedParts, f func(t testing.TB, w world, root *etree.Element)) func(testing.TB, world) string {
	return func(t testing.TB, w world) string {
		d := w.good(t, goodMsg(), parts)
		f(t, w, d.Root())
		return str(t, d)
	}
}

func with(f func(*msg)) msg { m := goodMsg(); f(&m); return m }

const evil = "admin@example.com"

// unsigned is a copy of el without its Signature.
func unsigned(el *etree.Element) *etree.Element {
	c := el.Copy()
	for _, s := range children(c, dsigNS, "Signature") {
		c.RemoveChild(s)
	}
	return c
}

func assertionOf(root *etree.Element) *etree.Element { return children(root, samlNS, "Assertion")[0] }

// replace puts n where old is in its parent.
func replace(old, n *etree.Element) {
	p := old.Parent()
	p.InsertChildAt(old.Index(), n)
	p.RemoveChild(old)
}

func corpus() []attack {
	w := world{}
	return []attack{
		{name: "valid-assertion-signed", what: "valid Response, Assertion signed", expect: "ok", nameID: "alice@example.org", build: w.signedString(goodMsg(), SignedAssertion)},
		{name: "valid-response-signed", what: "valid Response, Response signed", expect: "ok", nameID: "alice@example.org", build: w.signedString(goodMsg(), SignedResponse)},
		{name: "valid-both-signed", what: "valid Response, both signed", expect: "ok", nameID: "alice@example.org", build: w.signedString(goodMsg(), SignedBoth)},

		// XSW1-XSW8 as SAML Raider builds them.
		{name: "xsw1", what: "XSW1: evil Response as root keeps the Signature; the original Response, unsigned, inside the Signature", expect: "wrapping",
			build: mutate(SignedResponse, func(t testing.TB, w world, root *etree.Element) {
				orig := unsigned(root)
				root.CreateAttr("ID", "_evil-resp")
				setNameID(root, evil)
				sigOf(root).AddChild(orig)
			})},
		{name: "xsw2", what: "XSW2: evil Response as root; the original Response, unsigned, placed before the (now detached) Signature", expect: "wrapping",
			build: mutate(SignedResponse, func(t testing.TB, w world, root *etree.Element) {
				orig := unsigned(root)
				root.CreateAttr("ID", "_evil-resp")
				setNameID(root, evil)
				root.InsertChildAt(sigOf(root).Index(), orig)
			})},
		{name: "xsw3", what: "XSW3: unsigned evil Assertion (new ID) inserted before the signed original", expect: "multiple_assertions",
			build: mutate(SignedAssertion, func(t testing.TB, w world, root *etree.Element) {
				a := assertionOf(root)
				e := unsigned(a)
				e.CreateAttr("ID", "_evil-asrt")
				setNameID(e, evil)
				root.InsertChildAt(a.Index(), e)
			})},
		{name: "xsw4", what: "XSW4: unsigned evil Assertion wraps the signed original as its child", expect: "wrapping",
			build: mutate(SignedAssertion, func(t testing.TB, w world, root *etree.Element) {
				a := assertionOf(root)
				e := unsigned(a)
				e.CreateAttr("ID", "_evil-asrt")
				setNameID(e, evil)
				replace(a, e)
				e.AddChild(a)
			})},
		{name: "xsw5", what: "XSW5: evil Assertion keeps the Signature; an unsigned copy of the original appended to the Response", expect: "multiple_assertions",
			build: mutate(SignedAssertion, func(t testing.TB, w world, root *etree.Element) {
				a := assertionOf(root)
				orig := unsigned(a)
				setNameID(a, evil)
				root.AddChild(orig)
			})},
		{name: "xsw6", what: "XSW6: evil Assertion keeps the Signature; the unsigned original inside that Signature", expect: "wrapping",
			build: mutate(SignedAssertion, func(t testing.TB, w world, root *etree.Element) {
				a := assertionOf(root)
				orig := unsigned(a)
				setNameID(a, evil)
				sigOf(a).AddChild(orig)
			})},
		{name: "xsw7", what: "XSW7: unsigned original inside a samlp:Extensions before the evil Assertion, which keeps the Signature", expect: "wrapping",
			build: mutate(SignedAssertion, func(t testing.TB, w world, root *etree.Element) {
				a := assertionOf(root)
				ext := etree.NewElement("samlp:Extensions")
				ext.AddChild(unsigned(a))
				root.InsertChildAt(a.Index(), ext)
				setNameID(a, evil)
			})},
		{name: "xsw8", what: "XSW8: evil Assertion keeps the Signature; the unsigned original inside a ds:Object in it", expect: "wrapping",
			build: mutate(SignedAssertion, func(t testing.TB, w world, root *etree.Element) {
				a := assertionOf(root)
				orig := unsigned(a)
				setNameID(a, evil)
				sigOf(a).CreateElement("ds:Object").AddChild(orig)
			})},

		{name: "signature-stripped", what: "Signature removed from the Assertion, NameID changed", expect: "signature",
			build: mutate(SignedAssertion, func(t testing.TB, w world, root *etree.Element) {
				a := assertionOf(root)
				a.RemoveChild(sigOf(a))
				setNameID(a, evil)
			})},
		{name: "signature-empty-value", what: "empty SignatureValue", expect: "signature",
			build: mutate(SignedAssertion, func(t testing.TB, w world, root *etree.Element) {
				sigOf(assertionOf(root)).FindElement("SignatureValue").SetText("")
			})},
		{name: "signature-tampered", what: "NameID changed after signing", expect: "signature",
			build: mutate(SignedAssertion, func(t testing.TB, w world, root *etree.Element) { setNameID(root, evil) })},
		{name: "signature-wrong-cert", what: "signed by an unregistered key, its certificate in KeyInfo", expect: "signature",
			build: func(t testing.TB, w world) string {
				return str(t, signer{kp: w.other}.sign(t, with(func(m *msg) { m.NameID = evil }).xml(), SignedAssertion))
			}},
		{name: "signature-registered-keyinfo", what: "signed by an unregistered key, KeyInfo replaced by the registered certificate", expect: "signature",
			build: func(t testing.TB, w world) string {
				d := signer{kp: w.other}.sign(t, with(func(m *msg) { m.NameID = evil }).xml(), SignedAssertion)
				good := w.good(t, goodMsg(), SignedAssertion)
				cert := sigOf(assertionOf(good.Root())).FindElement(".//X509Certificate").Text()
				sigOf(assertionOf(d.Root())).FindElement(".//X509Certificate").SetText(cert)
				return str(t, d)
			}},
		{name: "signature-other-element", what: "the Assertion's Signature moved onto the Response: it covers another element", expect: "signature",
			build: mutate(SignedAssertion, func(t testing.TB, w world, root *etree.Element) {
				a := assertionOf(root)
				sig := sigOf(a)
				a.RemoveChild(sig)
				root.InsertChildAt(children(root, samlNS, "Issuer")[0].Index()+1, sig)
			})},

		{name: "comment-nameid", what: "a comment splits a signed NameID into admin@example.com and .evil.com; the identity must stay whole", expect: "ok", nameID: evil + ".evil.com",
			build: commentInjected(SignedAssertion, false, "<!--x-->")},
		{name: "comment-nameid-empty", what: "an empty comment (the classic form) splits the NameID; the identity must stay whole", expect: "ok", nameID: evil + ".evil.com",
			build: commentInjected(SignedAssertion, false, "<!---->")},
		{name: "comment-nameid-response-signed", what: "comment injected into the NameID of a signed Response", expect: "ok", nameID: evil + ".evil.com",
			build: commentInjected(SignedResponse, false, "<!-- -->")},
		{name: "comment-nameid-cdata", what: "empty CDATA section splitting the NameID", expect: "ok", nameID: evil + ".evil.com",
			build: commentInjected(SignedAssertion, false, "<![CDATA[]]>")},
		{name: "comment-nameid-with-comments-c14n", what: "comment injected where the signature's c14n keeps comments", expect: "signature",
			build: commentInjected(SignedAssertion, true, "<!--x-->")},

		{name: "audience-wrong", what: "assertion issued for another SP", expect: "audience", build: w.signedString(with(func(m *msg) { m.Audience = "https://other.example.com" }), SignedAssertion)},
		{name: "recipient-wrong", what: "SubjectConfirmationData Recipient is another ACS", expect: "recipient", build: w.signedString(with(func(m *msg) { m.Recipient = "https://other.example.com/acs" }), SignedAssertion)},
		{name: "destination-wrong", what: "signed Response addressed to another ACS", expect: "destination", build: w.signedString(with(func(m *msg) { m.Destination = "https://other.example.com/acs" }), SignedResponse)},
		{name: "destination-missing-signed", what: "signed Response without Destination", expect: "destination", build: w.signedString(with(func(m *msg) { m.Destination = "" }), SignedResponse)},
		{name: "issuer-wrong", what: "Issuer is another IdP", expect: "issuer", build: w.signedString(with(func(m *msg) { m.Issuer = "https://evil.example.net" }), SignedAssertion)},
		{name: "expired", what: "Conditions NotOnOrAfter passed (beyond skew)", expect: "expired", build: w.signedString(with(func(m *msg) { m.NotOnOrAfter = now.Add(-2 * time.Minute) }), SignedAssertion)},
		{name: "expired-subject-confirmation", what: "bearer SubjectConfirmationData NotOnOrAfter passed", expect: "expired", build: w.signedString(with(func(m *msg) { m.SCDNotOnOrAfter = now.Add(-2 * time.Minute) }), SignedAssertion)},
		{name: "not-yet-valid", what: "Conditions NotBefore in the future (beyond skew)", expect: "not_yet_valid", build: w.signedString(with(func(m *msg) { m.NotBefore = now.Add(3 * time.Minute) }), SignedAssertion)},
		{name: "in-response-to-replayed", what: "InResponseTo names a request already answered (not pending)", expect: "in_response_to", build: w.signedString(with(func(m *msg) { m.RespIRT, m.SCDIRT = "_req-old", "_req-old" }), SignedAssertion)},
		{name: "in-response-to-mismatch", what: "Response and Assertion InResponseTo differ", expect: "in_response_to", build: w.signedString(with(func(m *msg) { m.RespIRT = "_req-other" }), SignedAssertion)},
		{name: "unsolicited", what: "unsolicited Response (no InResponseTo) where only solicited ones are accepted", expect: "in_response_to", build: w.signedString(with(func(m *msg) { m.RespIRT, m.SCDIRT = "", "" }), SignedAssertion)},
		{name: "two-assertions", what: "two signed assertions in one Response", expect: "multiple_assertions",
			build: mutate(SignedAssertion, func(t testing.TB, w world, root *etree.Element) {
				second := signer{kp: w.idp}.sign(t, with(func(m *msg) { m.AsrtID = "_asrt-2"; m.NameID = evil }).xml(), SignedAssertion)
				root.AddChild(assertionOf(second.Root()))
			})},
		{name: "encrypted-empty", what: "EncryptedAssertion whose EncryptedData is empty (no algorithm, no key)", expect: "decryption",
			build: mutate(SignedAssertion, func(t testing.TB, w world, root *etree.Element) {
				e := etree.NewElement("saml:EncryptedAssertion")
				e.CreateElement("xenc:EncryptedData").CreateAttr("xmlns:xenc", "http://www.w3.org/2001/04/xmlenc#")
				replace(assertionOf(root), e)
			})},
		{name: "encrypted-id", what: "EncryptedID in place of the NameID (not supported)", expect: "encrypted_unsupported",
			build: mutate(SignedAssertion, func(t testing.TB, w world, root *etree.Element) {
				e := etree.NewElement("saml:EncryptedID")
				e.CreateElement("xenc:EncryptedData").CreateAttr("xmlns:xenc", "http://www.w3.org/2001/04/xmlenc#")
				replace(nameID(root), e)
			})},
		{name: "encrypted-valid", what: "valid Response, signed Assertion encrypted to our SP (RSA-OAEP, AES-256-GCM)", expect: "ok", nameID: "alice@example.org",
			build: sealedCase(1, nil)},
		{name: "encrypted-xsw", what: "XSW4 inside the encryption: an evil Assertion holding the signed original, encrypted to our SP", expect: "wrapping",
			build: sealedCase(2, wrapped)},
		{name: "status-responder", what: "non-Success status", expect: "status",
			build: w.signedString(with(func(m *msg) { m.Status = "urn:oasis:names:tc:SAML:2.0:status:Responder" }), SignedAssertion)},
		{name: "doctype-billion-laughs", what: "DOCTYPE with nested entities (billion laughs)", expect: "doctype",
			build: func(t testing.TB, w world) string {
				return `<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>` + "\n" + str(t, w.good(t, goodMsg(), SignedAssertion))
			}},
		{name: "doctype-xxe", what: "DOCTYPE with an external entity (XXE)", expect: "doctype",
			build: func(t testing.TB, w world) string {
				return `<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>` + "\n" + str(t, w.good(t, goodMsg(), SignedAssertion))
			}},
		{name: "oversize", what: "Response larger than MaxResponseBytes", expect: "too_large",
			build: w.signedString(with(func(m *msg) { m.Email = strings.Repeat("x", MaxResponseBytes) }), SignedAssertion)},
		{name: "bad-base64", what: "SAMLResponse field is not base64", expect: "malformed", transport: "corrupt-base64",
			build: w.signedString(goodMsg(), SignedAssertion)},
	}
}

// sealedCase encrypts the signed good Assertion, changed by edit, to our
// SP's key with RSA-OAEP and AES-256-GCM. xmlenc draws the content key, IDs,
// nonce and OAEP seed from xmlenc.RandReader, here a stream seeded per case
// so that the file stays the same byte for byte.
func sealedCase(seed byte, edit func(*etree.Element) *etree.Element) func(testing.TB, world) string {
	return func(t testing.TB, w world) string {
		saved := xmlenc.RandReader
		defer func() { xmlenc.RandReader = saved }()
		xmlenc.RandReader = rand.NewChaCha8([32]byte{seed})
		return str(t, sealedDoc(t, w.idp, w.sp.cert, oaep(xmlenc.AES256GCM), goodMsg(), SignedAssertion, edit))
	}
}

// commentInjected signs a Response for admin@example.com.evil.com (an
// account the attacker holds at the IdP) and then splits the NameID with a
// comment, hoping the SP reads only "admin@example.com".
func commentInjected(parts SignedParts, comments bool, comment string) func(testing.TB, world) string {
	return func(t testing.TB, w world) string {
		m := with(func(m *msg) { m.NameID = evil + ".evil.com" })
		s := str(t, signer{kp: w.idp, comments: comments}.sign(t, m.xml(), parts))
		return strings.Replace(s, ">"+evil+".evil.com<", ">"+evil+comment+".evil.com<", 1)
	}
}

var header = regexp.MustCompile(`^<!-- attack: (.*); expect: ([a-z_]+)(?:; nameid: (\S+))?(?:; transport: (\S+))? -->\n`)

func (a attack) file(t testing.TB, w world) string {
	h := fmt.Sprintf("<!-- attack: %s; expect: %s", a.what, a.expect)
	if a.nameID != "" {
		h += "; nameid: " + a.nameID
	}
	if a.transport != "" {
		h += "; transport: " + a.transport
	}
	return h + " -->\n" + a.build(t, w)
}

// TestCorpus regenerates the corpus (deterministic: fixed keys, time and
// IDs, PKCS #1 v1.5 signatures), checks that testdata/attacks holds exactly
// it (go test ./sp -update rewrites it), and runs every file.
func TestCorpus(t *testing.T) {
	w := world{idp: loadKey(t, "idp"), other: loadKey(t, "other"), sp: spKeyPair(t)}
	dir := filepath.Join("testdata", "attacks")
	want := map[string]bool{}
	for _, a := range corpus() {
		path := filepath.Join(dir, a.name+".xml")
		want[a.name+".xml"] = true
		gen := a.file(t, w)
		if *update {
			if err := os.WriteFile(path, []byte(gen), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != gen {
			t.Errorf("%s is stale or missing (go test ./sp -update): %v", path, err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
	for _, f := range files {
		if !want[filepath.Base(f)] {
			t.Errorf("%s is not in corpus()", f)
		}
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { runCorpusFile(t, f, w) })
	}
}

func runCorpusFile(t *testing.T, path string, w world) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := header.FindStringSubmatch(string(b))
	if h == nil {
		t.Fatalf("no attack header")
	}
	enc := encode(string(b))
	if h[4] == "corrupt-base64" {
		enc = enc[:40] + "*" + enc[40:]
	}
	e := expect(w.idp.cert)
	e.DecryptionKeys = []*rsa.PrivateKey{w.sp.key}
	a, err := ParseResponse(enc, e)
	switch {
	case h[2] == "ok" && err != nil:
		t.Fatalf("%s: refused: %v", h[1], err)
	case h[2] == "ok" && a.NameID != h[3]:
		t.Fatalf("%s: NameID %q, want %q", h[1], a.NameID, h[3])
	case h[2] != "ok" && ReasonOf(err) != Reason(h[2]):
		t.Fatalf("%s: got %v (reason %q), want reason %q", h[1], err, ReasonOf(err), h[2])
	}
}

// TestCorpusReasonsCovered guards the corpus list itself.
func TestCorpusReasonsCovered(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range corpus() {
		seen[a.expect] = true
	}
	var missing []string
	for _, r := range []Reason{ReasonSignature, ReasonWrapping, ReasonAudience, ReasonDestination, ReasonRecipient,
		ReasonExpired, ReasonNotYetValid, ReasonInResponseTo, ReasonIssuer, ReasonStatus, ReasonDoctype, ReasonTooLarge,
		ReasonMultipleAssertions, ReasonMalformed, ReasonEncryptedUnsupported, ReasonDecryption} {
		if !seen[string(r)] {
			missing = append(missing, string(r))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("no corpus case for %v", missing)
	}
}

package sp

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"
)

// spKeyPair is our SP's encryption key, kept beside the corpus cases that
// are encrypted to it.
func spKeyPair(t testing.TB) keyPair { return loadKey(t, filepath.Join("attacks", "sp")) }

// oaep is RSA-OAEP (mgf1p) key transport with data encrypted by c.
func oaep(c xmlenc.BlockCipher) xmlenc.RSA {
	r := xmlenc.OAEP()
	r.BlockCipher = c
	return r
}

// xmlOf serializes el as a document of its own, as an IdP serializes the
// Assertion it encrypts.
func xmlOf(t testing.TB, el *etree.Element) []byte {
	t.Helper()
	d := etree.NewDocument()
	d.SetRoot(el.Copy())
	b, err := d.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// encrypted is a saml:EncryptedAssertion holding plain encrypted to cert.
func encrypted(t testing.TB, plain []byte, cert *x509.Certificate, enc xmlenc.RSA) *etree.Element {
	t.Helper()
	data, err := enc.Encrypt(cert, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	ea := etree.NewElement("saml:EncryptedAssertion")
	ea.CreateAttr("xmlns:saml", samlNS)
	ea.AddChild(data)
	return ea
}

// sealedDoc is m as an IdP sends it encrypted: the Assertion signed if
// parts asks, changed by edit (when not nil), encrypted to cert with enc,
// and then the Response signed if parts asks.
func sealedDoc(t testing.TB, idp keyPair, cert *x509.Certificate, enc xmlenc.RSA, m msg, parts SignedParts, edit func(asrt *etree.Element) *etree.Element) *etree.Document {
	t.Helper()
	asrtParts := SignedEither // signs nothing
	if parts == SignedAssertion || parts == SignedBoth {
		asrtParts = SignedAssertion
	}
	d := signer{kp: idp}.sign(t, m.xml(), asrtParts)
	a := assertionOf(d.Root())
	plain := a
	if edit != nil {
		plain = edit(a)
	}
	replace(a, encrypted(t, xmlOf(t, plain), cert, enc))
	if parts == SignedResponse || parts == SignedBoth {
		signer{kp: idp}.signEl(t, d.Root())
	}
	return d
}

// wrapped is XSW4 inside the encryption: an unsigned evil Assertion that
// holds the signed original as its child.
func wrapped(a *etree.Element) *etree.Element {
	e := unsigned(a)
	e.CreateAttr("ID", "_evil-asrt")
	setNameID(e, evil)
	e.AddChild(a.Copy())
	return e
}

// plainWant is what the good message gives when its signed Assertion is
// sent in the clear: the same message encrypted must give the same.
func plainWant(t testing.TB, idp keyPair) *Assertion {
	t.Helper()
	a, err := ParseResponse(encode(str(t, signer{kp: idp}.sign(t, goodMsg().xml(), SignedAssertion))), expect(idp.cert))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// encryptedOf is the EncryptedAssertion of a sealed Response.
func encryptedOf(d *etree.Document) *etree.Element {
	return children(d.Root(), samlNS, "EncryptedAssertion")[0]
}

func TestEncryptedAssertion(t *testing.T) {
	idp, sp, other := loadKey(t, "idp"), spKeyPair(t), loadKey(t, "other")
	want := plainWant(t, idp)
	gcm, cbc := oaep(xmlenc.AES256GCM), oaep(xmlenc.AES128CBC)
	sealed := func(enc xmlenc.RSA, parts SignedParts, edit func(*etree.Element) *etree.Element) *etree.Document {
		return sealedDoc(t, idp, sp.cert, enc, goodMsg(), parts, edit)
	}
	oaep11 := xmlenc.OAEP_SHA256()
	oaep11.BlockCipher = xmlenc.AES128GCM
	rsa15 := xmlenc.PKCS1v15()
	rsa15.BlockCipher = xmlenc.AES256GCM
	tests := []struct {
		name   string
		doc    *etree.Document
		change func(*Expect)
		want   Reason
		msg    string // in the refusal's Msg
	}{
		{name: "signed Response, signed Assertion, GCM", doc: sealed(gcm, SignedBoth, nil), change: func(e *Expect) { e.Want = SignedBoth }},
		{name: "unsigned Response, signed Assertion, GCM", doc: sealed(gcm, SignedAssertion, nil)},
		{name: "signed Response, unsigned Assertion, GCM", doc: sealed(gcm, SignedResponse, nil), change: func(e *Expect) { e.Want = SignedResponse }},
		{name: "xmlenc11 rsa-oaep, AES-128-GCM", doc: sealedDoc(t, idp, sp.cert, oaep11, goodMsg(), SignedAssertion, nil)},
		{name: "CBC under a Response signature", doc: sealed(cbc, SignedResponse, nil)},
		{name: "CBC, Assertion signed", doc: sealed(oaep(xmlenc.AES256CBC), SignedAssertion, nil)},
		{name: "rollover: ours after a nil and an old DecryptionKey", doc: sealed(gcm, SignedAssertion, nil), change: func(e *Expect) { e.DecryptionKeys = []*rsa.PrivateKey{nil, other.key, sp.key} }},
		{name: "unsigned Response, unsigned Assertion", doc: sealed(gcm, SignedEither, nil), want: ReasonSignature, msg: "neither"},
		{name: "CBC without any signature", doc: sealed(cbc, SignedEither, nil), want: ReasonSignature, msg: "AES-CBC"},
		{name: "want Response signed, only the Assertion is: refused before decrypting", doc: sealed(gcm, SignedAssertion, nil), change: func(e *Expect) {
			e.Want, e.DecryptionKeys = SignedResponse, []*rsa.PrivateKey{other.key}
		}, want: ReasonSignature, msg: "the Response is not signed"},
		{name: "RSA 1.5 key transport", doc: sealed(rsa15, SignedBoth, nil), want: ReasonDecryption, msg: "Bleichenbacher"},
		{name: "3DES data encryption", doc: sealed(oaep(xmlenc.TripleDES), SignedBoth, nil), want: ReasonDecryption, msg: "not accepted"},
		{name: "wrong key", doc: sealed(gcm, SignedBoth, nil), change: func(e *Expect) { e.DecryptionKeys = []*rsa.PrivateKey{other.key} }, want: ReasonDecryption},
		{name: "no DecryptionKeys", doc: sealed(gcm, SignedBoth, nil), change: func(e *Expect) { e.DecryptionKeys = nil }, want: ReasonEncryptedUnsupported},
		{name: "wrapping inside the decrypted Assertion", doc: sealed(gcm, SignedBoth, wrapped), want: ReasonWrapping},
		{name: "EncryptedID inside the decrypted Assertion", doc: sealed(gcm, SignedResponse, func(a *etree.Element) *etree.Element {
			replace(nameID(a), etree.NewElement("saml:EncryptedID"))
			return a
		}), want: ReasonEncryptedUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := expect(idp.cert)
			e.DecryptionKeys = []*rsa.PrivateKey{sp.key}
			if tt.change != nil {
				tt.change(&e)
			}
			checkParsed(t, str(t, tt.doc), e, want, tt.want, tt.msg)
		})
	}
}

// checkParsed parses doc and checks the result: the Assertion want, or a
// refusal for reason whose Msg contains msg.
func checkParsed(t *testing.T, doc string, e Expect, want *Assertion, reason Reason, msg string) {
	t.Helper()
	a, err := ParseResponse(encode(doc), e)
	switch {
	case reason == "" && err != nil:
		t.Fatalf("refused: %v\n%s", err, doc)
	case reason == "" && !reflect.DeepEqual(a, want):
		t.Fatalf("got  %+v\nwant %+v", a, want)
	case reason != "" && ReasonOf(err) != reason:
		t.Fatalf("got %v (reason %q), want reason %q\n%s", err, ReasonOf(err), reason, doc)
	case reason != "" && !strings.Contains(err.Error(), msg):
		t.Fatalf("got %v, want a message containing %q", err, msg)
	}
}

// TestEncryptedAssertionLayout changes the message around a valid
// EncryptedAssertion after it was sealed.
func TestEncryptedAssertionLayout(t *testing.T) {
	idp, sp := loadKey(t, "idp"), spKeyPair(t)
	want := plainWant(t, idp)
	gcm := oaep(xmlenc.AES256GCM)
	tests := []struct {
		name  string
		parts SignedParts
		edit  func(t *testing.T, d *etree.Document)
		want  Reason
		msg   string
	}{
		{"EncryptedKey beside the EncryptedData", SignedAssertion, keyBeside, "", ""},
		{"two EncryptedAssertions", SignedAssertion, func(t *testing.T, d *etree.Document) {
			d.Root().AddChild(encryptedOf(d).Copy())
		}, ReasonMultipleAssertions, ""},
		{"EncryptedAssertion and Assertion", SignedAssertion, func(t *testing.T, d *etree.Document) {
			plain := signer{kp: idp}.sign(t, with(func(m *msg) { m.AsrtID = "_asrt-2" }).xml(), SignedAssertion)
			d.Root().AddChild(assertionOf(plain.Root()))
		}, ReasonMultipleAssertions, ""},
		{"EncryptedAssertion nested in Extensions", SignedAssertion, func(t *testing.T, d *etree.Document) {
			d.Root().CreateElement("samlp:Extensions").AddChild(encryptedOf(d).Copy())
		}, ReasonWrapping, ""},
		{"Signature inside the EncryptedAssertion", SignedBoth, func(t *testing.T, d *etree.Document) {
			encryptedOf(d).AddChild(sigOf(d.Root()).Copy())
		}, ReasonWrapping, ""},
		{"EncryptedAssertion swapped under a Response signature", SignedBoth, func(t *testing.T, d *etree.Document) {
			evilAsrt := etree.NewDocument()
			if err := evilAsrt.ReadFromString(with(func(m *msg) { m.NameID = evil }).assertionXML("_asrt-1")); err != nil {
				t.Fatal(err)
			}
			replace(encryptedOf(d), encrypted(t, xmlOf(t, evilAsrt.Root()), sp.cert, gcm))
		}, ReasonSignature, ""},
		{"Response without Issuer", SignedAssertion, func(t *testing.T, d *etree.Document) {
			d.Root().RemoveChild(children(d.Root(), samlNS, "Issuer")[0])
		}, ReasonIssuer, "Issuer"},
		{"ciphertext tampered", SignedAssertion, func(t *testing.T, d *etree.Document) {
			v := encryptedOf(d).FindElement("./EncryptedData/CipherData/CipherValue")
			s := v.Text()
			v.SetText(s[:40] + flip(s[40]) + s[41:])
		}, ReasonDecryption, "does not decrypt"},
		{"no EncryptedKey", SignedAssertion, func(t *testing.T, d *etree.Document) {
			data := encryptedOf(d).FindElement("./EncryptedData")
			data.RemoveChild(data.FindElement("./KeyInfo"))
		}, ReasonDecryption, "no EncryptedKey"},
		{"too many EncryptedKeys", SignedAssertion, func(t *testing.T, d *etree.Document) {
			ea := encryptedOf(d)
			for range maxEncryptedKeys {
				ea.AddChild(ea.FindElement(".//EncryptedKey").Copy())
			}
		}, ReasonDecryption, "more than"},
		{"foreign EncryptionMethod before xenc's", SignedAssertion, func(t *testing.T, d *etree.Document) {
			ek := encryptedOf(d).FindElement(".//EncryptedKey")
			m := etree.NewElement("x:EncryptionMethod")
			m.CreateAttr("xmlns:x", "urn:example:x")
			m.CreateAttr("Algorithm", rsa15)
			ek.InsertChildAt(0, m)
		}, ReasonDecryption, "want one xenc:EncryptionMethod"},
		{"EncryptedData of Type Content", SignedAssertion, func(t *testing.T, d *etree.Document) {
			encryptedOf(d).FindElement("./EncryptedData").CreateAttr("Type", xencNS+"Content")
		}, ReasonDecryption, "Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := sealedDoc(t, idp, sp.cert, gcm, goodMsg(), tt.parts, nil)
			tt.edit(t, d)
			e := expect(idp.cert)
			e.DecryptionKeys = []*rsa.PrivateKey{sp.key}
			checkParsed(t, str(t, d), e, want, tt.want, tt.msg)
		})
	}
}

// keyBeside moves the EncryptedKey out of the EncryptedData's KeyInfo to
// beside it, pointed at by a RetrievalMethod, as several IdPs send it.
func keyBeside(t *testing.T, d *etree.Document) {
	ea := encryptedOf(d)
	ki := ea.FindElement("./EncryptedData/KeyInfo")
	ek := ki.FindElement("./EncryptedKey")
	ki.RemoveChild(ek)
	rm := ki.CreateElement("ds:RetrievalMethod")
	rm.CreateAttr("Type", xencNS+"EncryptedKey")
	rm.CreateAttr("URI", "#"+ek.SelectAttrValue("Id", ""))
	ea.AddChild(ek)
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// TestEncryptedPlaintext encrypts plaintexts no IdP should send.
func TestEncryptedPlaintext(t *testing.T) {
	idp, sp := loadKey(t, "idp"), spKeyPair(t)
	signed := signer{kp: idp}.sign(t, goodMsg().xml(), SignedAssertion)
	asrt := string(xmlOf(t, assertionOf(signed.Root())))
	tests := []struct {
		name, plain string
		want        Reason
	}{
		{"DOCTYPE before the Assertion", `<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>` + asrt, ReasonDoctype},
		{"a Response, not an Assertion", str(t, signed), ReasonMalformed},
		{"two roots", asrt + asrt, ReasonMalformed},
		{"not XML", "\x00\x01 garbage", ReasonMalformed},
		{"Assertion relying on the Response's namespace declaration", strings.Replace(asrt, ` xmlns:saml="`+samlNS+`"`, "", 1), ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := signer{kp: idp}.sign(t, goodMsg().xml(), SignedEither)
			replace(assertionOf(d.Root()), encrypted(t, []byte(tt.plain), sp.cert, oaep(xmlenc.AES256GCM)))
			signer{kp: idp}.signEl(t, d.Root())
			e := expect(idp.cert)
			e.DecryptionKeys = []*rsa.PrivateKey{sp.key}
			_, err := ParseResponse(encode(str(t, d)), e)
			if ReasonOf(err) != tt.want {
				t.Fatalf("got %v (reason %q), want reason %q", err, ReasonOf(err), tt.want)
			}
		})
	}
}

// TestEncryptedInteropXMLSec1 decrypts Assertions that xmlsec1 (libxmlsec,
// an independent XML Encryption implementation) encrypted.
func TestEncryptedInteropXMLSec1(t *testing.T) {
	bin := requireXMLSec1(t)
	idp, sp := loadKey(t, "idp"), spKeyPair(t)
	want := plainWant(t, idp)
	for _, c := range []struct{ data, session string }{
		{"http://www.w3.org/2009/xmlenc11#aes256-gcm", "aes-256"},
		{"http://www.w3.org/2001/04/xmlenc#aes128-cbc", "aes-128"},
	} {
		t.Run(c.session+" "+c.data[strings.LastIndex(c.data, "#")+1:], func(t *testing.T) {
			doc := xmlsec1Encrypt(t, bin, sp, c.data, c.session, signer{kp: idp}.sign(t, goodMsg().xml(), SignedAssertion))
			e := expect(idp.cert)
			e.DecryptionKeys = []*rsa.PrivateKey{sp.key}
			checkParsed(t, doc, e, want, "", "")
		})
	}
}

// xmlsec1Encrypt puts d's Assertion in a saml:EncryptedAssertion and has
// xmlsec1 replace it with its EncryptedData, RSA-OAEP (mgf1p) to sp.
func xmlsec1Encrypt(t *testing.T, bin string, sp keyPair, data, session string, d *etree.Document) string {
	a := assertionOf(d.Root())
	ea := etree.NewElement("saml:EncryptedAssertion")
	replace(a, ea)
	ea.AddChild(a)
	tmpl := `<xenc:EncryptedData xmlns:xenc="` + xencNS + `" Type="` + xencNS + `Element">` +
		`<xenc:EncryptionMethod Algorithm="` + data + `"/><ds:KeyInfo xmlns:ds="` + dsigNS + `"><xenc:EncryptedKey>` +
		`<xenc:EncryptionMethod Algorithm="` + xencNS + `rsa-oaep-mgf1p"><ds:DigestMethod Algorithm="` + dsigNS + `sha1"/></xenc:EncryptionMethod>` +
		`<xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>` +
		`<xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedData>`
	dir := t.TempDir()
	files := map[string][]byte{"tmpl.xml": []byte(tmpl), "resp.xml": []byte(str(t, d)), "sp.pem": pemCert(sp.cert)}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "out.xml")
	cmd := exec.Command(bin, "--encrypt", "--pubkey-cert-pem", filepath.Join(dir, "sp.pem"), "--session-key", session,
		"--xml-data", filepath.Join(dir, "resp.xml"), "--node-xpath", "//*[local-name()='EncryptedAssertion']/*",
		"--output", out, filepath.Join(dir, "tmpl.xml"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xmlsec1 --encrypt: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// requireXMLSec1 is the path of xmlsec1. Without it the test skips, or
// fails under GATEWAY_TEST_REQUIRE_SERVICES=1 (DESIGN.md §7). sp cannot
// import internal/testenv, which imports sp.
func requireXMLSec1(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("xmlsec1")
	if err != nil {
		if os.Getenv("GATEWAY_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("xmlsec1 is not installed and GATEWAY_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("xmlsec1 is not installed (Debian package xmlsec1)")
	}
	return path
}

// FuzzEncryptedAssertion mutates Responses holding an EncryptedAssertion,
// with our SP's key configured, which FuzzParseResponse has not. It must
// never panic, and whatever it accepts must be the seeds' one assertion.
func FuzzEncryptedAssertion(f *testing.F) {
	idp, sp := loadKey(f, "idp"), spKeyPair(f)
	want := plainWant(f, idp)
	for _, enc := range []xmlenc.RSA{oaep(xmlenc.AES256GCM), oaep(xmlenc.AES128CBC)} {
		for _, parts := range []SignedParts{SignedAssertion, SignedResponse} {
			f.Add([]byte(str(f, sealedDoc(f, idp, sp.cert, enc, goodMsg(), parts, nil))))
		}
	}
	e := expect(idp.cert)
	e.DecryptionKeys = []*rsa.PrivateKey{sp.key}
	f.Fuzz(func(t *testing.T, xml []byte) {
		a, err := ParseResponse(encode(string(xml)), e)
		switch {
		case err != nil && ReasonOf(err) == "":
			t.Fatalf("untyped error %v", err)
		case err == nil && !reflect.DeepEqual(a, want):
			t.Fatalf("accepted a new assertion %+v", a)
		}
	})
}

package sp

// EncryptedAssertion (SAML Core §2.3.4, XML Encryption) is decrypted with
// crewjam/saml's xmlenc behind checks of our own, so that what is accepted
// does not depend on xmlenc's global registry of algorithms:
//   - Key transport is RSA-OAEP only (rsa-oaep-mgf1p, xmlenc11 rsa-oaep);
//     RSA PKCS#1 v1.5 is refused before any private-key operation
//     (Bleichenbacher). Content encryption is AES-GCM or AES-CBC, 128, 192
//     or 256 bits.
//   - xmlenc finds EncryptionMethod and KeyInfo by local name in any
//     namespace, so exactly one EncryptionMethod is allowed, in xenc's
//     namespace, and the content key is unwrapped here and handed to
//     xmlenc with every KeyInfo removed: xmlenc never picks a key itself.
//   - The EncryptedKey is beside the EncryptedData or in its ds:KeyInfo
//     (both forms are in use); at most maxEncryptedKeys of them, each tried
//     with every DecryptionKey, since each try is a private-key operation
//     that an unsigned Response can make us spend.
//   - The plaintext gets the same bound and DOCTYPE/entity/depth scan as the
//     message, must be one saml:Assertion that declares its own namespaces,
//     and gets the same layout check as a plain Assertion.
//   - Data-level failures (tag, padding) carry no detail, as in xmlenc.

import (
	"crypto/rsa"
	"errors"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"
)

const (
	xencNS   = "http://www.w3.org/2001/04/xmlenc#"
	xenc11NS = "http://www.w3.org/2009/xmlenc11#"
	rsa15    = xencNS + "rsa-1_5"

	// maxEncryptedKeys bounds the EncryptedKeys tried, each costing one RSA
	// decryption per DecryptionKey.
	maxEncryptedKeys = 4
)

// dataCipher is an accepted EncryptedData algorithm.
type dataCipher struct {
	keySize int  // bytes
	cbc     bool // no integrity of its own: a signature must cover it
}

var (
	dataCiphers = map[string]dataCipher{
		xenc11NS + "aes128-gcm": {16, false},
		xenc11NS + "aes192-gcm": {24, false},
		xenc11NS + "aes256-gcm": {32, false},
		xencNS + "aes128-cbc":   {16, true},
		xencNS + "aes192-cbc":   {24, true},
		xencNS + "aes256-cbc":   {32, true},
	}
	keyTransports = map[string]bool{
		xencNS + "rsa-oaep-mgf1p": true,
		xenc11NS + "rsa-oaep":     true,
	}
)

// assertionIn returns the one assertion of resp, the Response as its
// signature covers it: its Assertion child, or its EncryptedAssertion child
// decrypted. cbc reports that the assertion came AES-CBC encrypted.
func (e Expect) assertionIn(resp *etree.Element) (asrt *etree.Element, cbc bool, _ error) {
	plain, enc := children(resp, samlNS, "Assertion"), children(resp, samlNS, "EncryptedAssertion")
	switch {
	case len(plain)+len(enc) != 1:
		return nil, false, refuse(ReasonWrapping, "verified Response has %d Assertion and %d EncryptedAssertion, want one in all", len(plain), len(enc))
	case len(plain) == 1:
		return plain[0], false, nil
	case len(children(resp, samlNS, "Issuer")) == 0:
		return nil, false, refuse(ReasonIssuer, "Response with an EncryptedAssertion has no Issuer (Profiles §4.1.4.2)")
	}
	return e.decrypt(enc[0])
}

// decrypt returns the Assertion that enc, a saml:EncryptedAssertion, holds.
func (e Expect) decrypt(enc *etree.Element) (*etree.Element, bool, error) {
	data, err := only(enc, xencNS, "EncryptedData")
	if err != nil {
		return nil, false, refuse(ReasonDecryption, "%v", err)
	}
	if t := attr(data, "Type"); t != "" && t != xencNS+"Element" {
		return nil, false, refuse(ReasonDecryption, "EncryptedData Type %q, want an element", t)
	}
	alg, err := method(data)
	if err != nil {
		return nil, false, err
	}
	c, ok := dataCiphers[alg]
	if !ok {
		return nil, false, refuse(ReasonDecryption, "EncryptedData algorithm %q not accepted (AES-GCM or AES-CBC only)", alg)
	}
	key, err := e.contentKey(enc, data, c.keySize)
	if err != nil {
		return nil, c.cbc, err
	}
	plain, err := xmlenc.Decrypt(key, withoutKeyInfo(data))
	if err != nil {
		return nil, c.cbc, refuse(ReasonDecryption, "EncryptedData does not decrypt with its content key")
	}
	asrt, err := parseDecrypted(plain)
	return asrt, c.cbc, err
}

// contentKey unwraps the content key from the EncryptedKeys of data, those
// beside it in enc and those in its KeyInfo, with our DecryptionKeys.
func (e Expect) contentKey(enc, data *etree.Element, size int) ([]byte, error) {
	eks := children(enc, xencNS, "EncryptedKey")
	for _, ki := range children(data, dsigNS, "KeyInfo") {
		eks = append(eks, children(ki, xencNS, "EncryptedKey")...)
	}
	switch {
	case len(eks) == 0:
		return nil, refuse(ReasonDecryption, "EncryptedAssertion has no EncryptedKey")
	case len(eks) > maxEncryptedKeys:
		return nil, refuse(ReasonDecryption, "EncryptedAssertion has %d EncryptedKeys, more than %d", len(eks), maxEncryptedKeys)
	}
	for _, ek := range eks {
		if err := checkKeyTransport(ek); err != nil {
			return nil, err
		}
	}
	for _, ek := range eks {
		for _, k := range e.DecryptionKeys {
			if key := unwrap(k, ek); len(key) == size {
				return key, nil
			}
		}
	}
	return nil, refuse(ReasonDecryption, "none of %d DecryptionKeys unwraps the %d EncryptedKeys to a %d-byte key", len(e.DecryptionKeys), len(eks), size)
}

// unwrap is ek's content key under k, or nil. RSA-OAEP fails the same way
// for every wrong key, so the cause is not kept.
func unwrap(k *rsa.PrivateKey, ek *etree.Element) []byte {
	if k == nil {
		return nil
	}
	key, err := xmlenc.Decrypt(k, ek)
	if err != nil {
		return nil
	}
	return key
}

func checkKeyTransport(ek *etree.Element) error {
	alg, err := method(ek)
	switch {
	case err != nil:
		return err
	case alg == rsa15:
		return refuse(ReasonDecryption, "EncryptedKey uses RSA PKCS#1 v1.5 key transport (rsa-1_5), refused as open to Bleichenbacher's padding oracle: the IdP must use RSA-OAEP")
	case !keyTransports[alg]:
		return refuse(ReasonDecryption, "EncryptedKey algorithm %q not accepted (RSA-OAEP only)", alg)
	}
	return nil
}

// method is el's EncryptionMethod Algorithm. xmlenc takes the first child
// named EncryptionMethod in any namespace, so exactly one such child is
// allowed, and it must be xenc's.
func method(el *etree.Element) (string, error) {
	var ms []*etree.Element
	for _, c := range el.ChildElements() {
		if c.Tag == "EncryptionMethod" {
			ms = append(ms, c)
		}
	}
	if len(ms) != 1 || ms[0].NamespaceURI() != xencNS {
		return "", refuse(ReasonDecryption, "<%s> has %d EncryptionMethod elements, want one xenc:EncryptionMethod", el.Tag, len(ms))
	}
	return attr(ms[0], "Algorithm"), nil
}

// withoutKeyInfo is a copy of data without any KeyInfo child (xmlenc looks
// for one in any namespace), so that xmlenc uses the key it is given.
func withoutKeyInfo(data *etree.Element) *etree.Element {
	c := data.Copy()
	for _, ki := range c.ChildElements() {
		if ki.Tag == "KeyInfo" {
			c.RemoveChild(ki)
		}
	}
	return c
}

// parseDecrypted parses the plaintext of an EncryptedAssertion as decode
// parses a Response, and checks its layout as checkShape checks a plain
// Assertion's.
func parseDecrypted(plain []byte) (*etree.Element, error) {
	if len(plain) > MaxResponseBytes {
		return nil, refuse(ReasonTooLarge, "decrypted assertion is %d bytes, more than %d", len(plain), MaxResponseBytes)
	}
	if err := scan(plain); err != nil {
		if se := (*Error)(nil); errors.As(err, &se) {
			return nil, refuse(se.Reason, "decrypted EncryptedAssertion: %s", se.Msg)
		}
		return nil, err
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(plain); err != nil {
		return nil, refuse(ReasonMalformed, "decrypted EncryptedAssertion is not XML: %v", err)
	}
	root := doc.Root()
	if !is(root, samlNS, "Assertion") {
		return nil, refuse(ReasonMalformed, "EncryptedAssertion holds <%s> in %q, want saml:Assertion", root.Tag, root.NamespaceURI())
	}
	return root, walk(root, true)
}

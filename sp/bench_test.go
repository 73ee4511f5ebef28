package sp

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"testing"
)

// BenchmarkParseResponse validates one Response whose Assertion is signed
// with RSA-2048 (one signature verification). Compare with
// BenchmarkRSA2048Verify, the same key's bare verify: the ceiling.
func BenchmarkParseResponse(b *testing.B) {
	idp := loadKey(b, "idp")
	resp := encode(str(b, signer{kp: idp}.sign(b, goodMsg().xml(), SignedAssertion)))
	e := expect(idp.cert)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseResponse(resp, e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRSA2048Verify(b *testing.B) {
	idp := loadKey(b, "idp")
	h := sha256.Sum256([]byte("SignedInfo"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, idp.key, crypto.SHA256, h[:])
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := rsa.VerifyPKCS1v15(&idp.key.PublicKey, crypto.SHA256, h[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// sealVersion is the first byte of a sealed key: the format, so that the
// algorithm can change without guessing.
const sealVersion = 1

// sealLabel names the master-derived key that encrypts signing keys.
const sealLabel = "signing keys"

// Seal encrypts a private signing key for storage with AES-256-GCM under a
// key derived from the master secret, bound to aad (which must be given
// again to Open): version byte, 12-byte nonce, ciphertext and tag.
func Seal(m *Master, plaintext, aad []byte) ([]byte, error) {
	return SealFor(m, sealLabel, plaintext, aad)
}

// SealFor is Seal under the key derived for label, so that each purpose
// (signing keys, TOTP secrets…) has its own key.
func SealFor(m *Master, label string, plaintext, aad []byte) ([]byte, error) {
	aead, err := sealAEAD(m, label)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return aead.Seal(out, out[1:], plaintext, aad), nil
}

// Open decrypts what Seal made with the same master secret and aad.
func Open(m *Master, sealed, aad []byte) ([]byte, error) {
	return OpenFor(m, sealLabel, sealed, aad)
}

// OpenFor decrypts what SealFor made with the same label and aad.
func OpenFor(m *Master, label string, sealed, aad []byte) ([]byte, error) {
	aead, err := sealAEAD(m, label)
	if err != nil {
		return nil, err
	}
	if len(sealed) < 1+aead.NonceSize()+aead.Overhead() || sealed[0] != sealVersion {
		return nil, errors.New("keys: sealed key is malformed")
	}
	nonce, ct := sealed[1:1+aead.NonceSize()], sealed[1+aead.NonceSize():]
	pt, err := aead.Open(nil, nonce, ct, aad)
	if err != nil {
		return nil, errors.New("keys: sealed key does not open: another master secret, or altered")
	}
	return pt, nil
}

func sealAEAD(m *Master, label string) (cipher.AEAD, error) {
	block, err := aes.NewCipher(m.Derive(label, 32))
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return cipher.NewGCM(block)
}

// SealSigning returns s's certificate (DER) and its private key as PKCS#8,
// sealed and bound to that certificate, so that a sealed key cannot be
// paired with another certificate.
func SealSigning(m *Master, s *Signing) (certDER, sealedKey []byte, err error) {
	sealedKey, err = Seal(m, mustPKCS8(s.Key), s.Cert.Raw)
	return s.Cert.Raw, sealedKey, err
}

// OpenSigning reverses SealSigning, checking that the key and the
// certificate belong together.
func OpenSigning(m *Master, certDER, sealedKey []byte) (*Signing, error) {
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, fmt.Errorf("keys: certificate: %w", err)
	}
	der, err := Open(m, sealedKey, certDER)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("keys: private key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok || !rk.PublicKey.Equal(cert.PublicKey) {
		return nil, errors.New("keys: private key does not match its certificate")
	}
	return &Signing{Key: rk, Cert: cert}, nil
}

// Fingerprint is the SHA-256 digest of a certificate as colon-separated
// upper-case hex, as `openssl x509 -fingerprint -sha256` prints it.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	var b strings.Builder
	for i, x := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", x)
	}
	return b.String()
}

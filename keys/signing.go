package keys

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// Signing is an RSA signing key and its certificate.
type Signing struct {
	Key  *rsa.PrivateKey
	Cert *x509.Certificate
}

// LoadOrCreateSigning reads <dir>/keys/signing.key and signing.crt, creating
// both when neither exists. commonName names the certificate's subject.
func LoadOrCreateSigning(dir, commonName string, now time.Time) (s *Signing, created bool, err error) {
	keyPath := filepath.Join(dir, "keys", "signing.key")
	certPath := filepath.Join(dir, "keys", "signing.crt")
	s, err = loadSigning(keyPath, certPath)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return s, false, err
	}
	s, err = NewSigning(commonName, now)
	if err != nil {
		return nil, false, err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: mustPKCS8(s.Key)})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Cert.Raw})
	if err := writeExclusive(keyPath, keyPEM); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process made it first
			return LoadOrCreateSigning(dir, commonName, now)
		}
		return nil, false, err
	}
	if err := writeExclusive(certPath, certPEM); err != nil {
		os.Remove(keyPath)
		return nil, false, err
	}
	return s, true, nil
}

func loadSigning(keyPath, certPath string) (*Signing, error) {
	kb, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	cb, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("keys: %s exists but %w", keyPath, err)
	}
	key, err := parseKey(kb)
	if err != nil {
		return nil, fmt.Errorf("keys: %s: %w", keyPath, err)
	}
	block, _ := pem.Decode(cb)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("keys: %s: no PEM certificate", certPath)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("keys: %s: %w", certPath, err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("keys: %s does not match %s", certPath, keyPath)
	}
	return &Signing{Key: key, Cert: cert}, nil
}

func parseKey(b []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if block.Type == "RSA PRIVATE KEY" {
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key is %T, want RSA", k)
	}
	return rk, nil
}

// NewSigning generates an RSA-2048 key and a self-signed certificate for it
// valid from an hour before now (for clocks behind ours) for ten years.
func NewSigning(commonName string, now time.Time) (*Signing, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"Portcullis"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return &Signing{Key: key, Cert: cert}, nil
}

func mustPKCS8(k *rsa.PrivateKey) []byte {
	b, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err) // cannot fail for an RSA key
	}
	return b
}

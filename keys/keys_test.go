package keys

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestMasterCreatedOnceAndReused(t *testing.T) {
	dir := t.TempDir()
	m1, created, err := LoadOrCreateMaster(dir)
	if err != nil || !created {
		t.Fatalf("first: created=%v err=%v", created, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "master.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("master.key mode = %v, err %v; want 0600", fi.Mode(), err)
	}
	m2, created, err := LoadOrCreateMaster(dir)
	if err != nil || created {
		t.Fatalf("second: created=%v err=%v", created, err)
	}
	if !bytes.Equal(m1.Derive("x", 32), m2.Derive("x", 32)) {
		t.Error("second load derived a different key")
	}
}

func TestDeriveSeparatesPurposes(t *testing.T) {
	m, _ := NewMaster("0123456789abcdef0123456789abcdef")
	a, b := m.Derive("session cookie", 32), m.Derive("csrf", 32)
	if bytes.Equal(a, b) || len(a) != 32 {
		t.Errorf("labels share a key or wrong length: %x %x", a, b)
	}
	other, _ := NewMaster("0123456789abcdef0123456789abcdeF")
	if bytes.Equal(a, other.Derive("session cookie", 32)) {
		t.Error("different secrets derive the same key")
	}
	if _, err := NewMaster("short"); err == nil {
		t.Error("short secret accepted")
	}
}

func TestBadMasterFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "master.key"), []byte("tiny\n"), 0o600)
	if _, _, err := LoadOrCreateMaster(dir); err == nil {
		t.Fatal("short master.key accepted")
	}
}

func TestSigningCreatedOnceAndReused(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s1, created, err := LoadOrCreateSigning(dir, "localhost", now)
	if err != nil || !created {
		t.Fatalf("first: created=%v err=%v", created, err)
	}
	if s1.Key.N.BitLen() != 2048 || !s1.Cert.NotAfter.After(now.AddDate(9, 0, 0)) {
		t.Errorf("key bits %d, cert until %v", s1.Key.N.BitLen(), s1.Cert.NotAfter)
	}
	if err := s1.Cert.CheckSignature(s1.Cert.SignatureAlgorithm, s1.Cert.RawTBSCertificate, s1.Cert.Signature); err != nil {
		t.Errorf("certificate is not self-signed by its key: %v", err)
	}
	s2, created, err := LoadOrCreateSigning(dir, "localhost", now)
	if err != nil || created || !s2.Key.Equal(s1.Key) {
		t.Fatalf("second: created=%v err=%v same=%v", created, err, s2.Key.Equal(s1.Key))
	}
}

func TestSigningMismatchRefused(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	now := time.Now()
	LoadOrCreateSigning(a, "a", now)
	LoadOrCreateSigning(b, "b", now)
	crt, _ := os.ReadFile(filepath.Join(b, "keys", "signing.crt"))
	os.WriteFile(filepath.Join(a, "keys", "signing.crt"), crt, 0o600)
	if _, _, err := LoadOrCreateSigning(a, "a", now); err == nil {
		t.Fatal("certificate of another key accepted")
	}
}

package keys

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func testMaster(t *testing.T, secret string) *Master {
	t.Helper()
	m, err := NewMaster(strings.Repeat(secret, 32))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSealOpen(t *testing.T) {
	m := testMaster(t, "a")
	sealed, err := Seal(m, []byte("private"), []byte("cert"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("private")) {
		t.Fatal("sealed bytes hold the plaintext")
	}
	if pt, err := Open(m, sealed, []byte("cert")); err != nil || string(pt) != "private" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	again, _ := Seal(m, []byte("private"), []byte("cert"))
	if bytes.Equal(sealed, again) {
		t.Error("two seals are identical: the nonce is not random")
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	for name, tc := range map[string]struct {
		m      *Master
		sealed []byte
		aad    string
	}{
		"other master": {testMaster(t, "b"), sealed, "cert"},
		"other aad":    {m, sealed, "other cert"},
		"tampered":     {m, tampered, "cert"},
		"truncated":    {m, sealed[:10], "cert"},
		"bad version":  {m, append([]byte{9}, sealed[1:]...), "cert"},
	} {
		if _, err := Open(tc.m, tc.sealed, []byte(tc.aad)); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
}

func TestSealSigning(t *testing.T) {
	m := testMaster(t, "a")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := NewSigning("idp.example.com", now)
	if err != nil {
		t.Fatal(err)
	}
	certDER, sealed, err := SealSigning(m, s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenSigning(m, certDER, sealed)
	if err != nil || !got.Key.Equal(s.Key) || !bytes.Equal(got.Cert.Raw, s.Cert.Raw) {
		t.Fatalf("OpenSigning: %v", err)
	}
	other, _ := NewSigning("other", now)
	if _, err := OpenSigning(m, other.Cert.Raw, sealed); err == nil {
		t.Error("a sealed key opened with another certificate")
	}
	if _, err := OpenSigning(m, []byte("not a cert"), sealed); err == nil {
		t.Error("garbage certificate accepted")
	}
	if fp := Fingerprint(s.Cert); len(fp) != 32*3-1 || strings.ToUpper(fp) != fp {
		t.Errorf("fingerprint %q", fp)
	}
}

func TestSealForSeparatesPurposes(t *testing.T) {
	m := testMaster(t, "a")
	sealed, err := SealFor(m, "mfa secrets", []byte("JBSWY3DP"), []byte("user 7"))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := OpenFor(m, "mfa secrets", sealed, []byte("user 7")); err != nil || string(pt) != "JBSWY3DP" {
		t.Fatalf("OpenFor = %q, %v", pt, err)
	}
	if _, err := Open(m, sealed, []byte("user 7")); err == nil {
		t.Error("a secret sealed for one purpose opened under the signing-key label")
	}
}

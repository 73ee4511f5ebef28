package totp

import (
	"encoding/base32"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/internal/testenv/totpref"
)

// rfcCode is the tests' independent RFC 6238 reference, written by hand in
// totpref with no code of pquerna/otp or of this package.
var rfcCode = totpref.Code

// rfcSecret is the SHA1 seed of RFC 6238 Appendix B.
var rfcSecret = []byte("12345678901234567890")

// TestRFC6238Vectors checks the reference against the RFC's SHA1 vectors
// (8 digits), and that the factor's own verification accepts each
// vector's last six digits (the same value mod 10^6) at its time.
func TestRFC6238Vectors(t *testing.T) {
	for _, v := range []struct {
		unix int64
		code string
	}{
		{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"},
		{1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
	} {
		at := time.Unix(v.unix, 0)
		if got := rfcCode(rfcSecret, at, 8); got != v.code {
			t.Errorf("reference at %d = %s, want %s", v.unix, got, v.code)
		}
		ks := []key{{secret: b32.EncodeToString(rfcSecret)}}
		_, s, ok := match(ks, v.code[2:], at)
		if !ok || s != v.unix/30 {
			t.Errorf("match(%s) at %d = step %d, %v; want step %d", v.code[2:], v.unix, s, ok, v.unix/30)
		}
	}
}

// requireOathtool returns the path of oathtool (Debian package oathtool),
// skipping without it, or failing under GATEWAY_TEST_REQUIRE_SERVICES=1.
func requireOathtool(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("oathtool")
	if err != nil {
		if os.Getenv("GATEWAY_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("oathtool is not installed (Debian package oathtool) and GATEWAY_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("oathtool is not installed (Debian package oathtool)")
	}
	return path
}

// oathtool computes the TOTP code of a base32 secret at t with OATH
// Toolkit's oathtool.
func oathtool(t testing.TB, secretB32 string, at time.Time) string {
	t.Helper()
	path := requireOathtool(t)
	out, err := exec.Command(path, "--totp", "-b", "--now", at.UTC().Format("2006-01-02 15:04:05 UTC"), secretB32).Output()
	if err != nil {
		t.Fatalf("oathtool: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestOathtoolAgreesWithReference pins the reference to oathtool on random
// secrets, so that the two independent implementations check each other.
func TestOathtoolAgreesWithReference(t *testing.T) {
	requireOathtool(t)
	for i := range 5 {
		secret := []byte(fmt.Sprintf("secret-%02d-of-twenty!", i))[:20]
		at := time.Unix(1_700_000_000+int64(i)*7919, 0)
		enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
		if got, want := oathtool(t, enc, at), rfcCode(secret, at, 6); got != want {
			t.Errorf("oathtool %s, reference %s", got, want)
		}
	}
}

package webauthn

import (
	"net/http"
	"testing"
)

// BenchmarkStepUp is one step-up with a security key over HTTP: the page,
// begin, the software authenticator's signature, finish (verification,
// the sign count written to SQLite, the session rotated).
func BenchmarkStepUp(b *testing.B) {
	h := newHarness(b)
	u, k, _ := h.registered("ada@example.com")
	br := h.browser()
	br.SignIn(u)
	for b.Loop() {
		br.verify(k, h.stepUp(u, "/")).must(b, "step-up", http.StatusOK)
	}
}

// BenchmarkPasskeySignIn is one passwordless sign-in: the login page,
// begin, the assertion, finish (user lookup by handle, verification, the
// sign count and login written in one transaction, a new session).
func BenchmarkPasskeySignIn(b *testing.B) {
	h := newHarness(b)
	_, k, _ := h.registered("ada@example.com")
	br := h.browser()
	for b.Loop() {
		br.passkey(k, "/").must(b, "sign in", http.StatusOK)
	}
}

// BenchmarkUserHandle encrypts and decrypts a user handle.
func BenchmarkUserHandle(b *testing.B) {
	f := newHarness(b).factor
	for b.Loop() {
		if _, ok := f.userOf(f.userHandle(42)); !ok {
			b.Fatal("handle not read back")
		}
	}
}

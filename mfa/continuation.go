package mfa

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// ContinuationTTL is how long a step-up may take, from the redirect to
// /mfa to the last factor page's answer.
const ContinuationTTL = 15 * time.Minute

// Continuation is what a step-up is for: whose it is, what satisfies it, and
// where the browser goes once it is done. It travels signed in the query
// ("c"), so /mfa needs no server state and any node can continue it.
type Continuation struct {
	UserID int64  `json:"u"`
	Return string `json:"r"`           // where to go after success
	App    string `json:"a,omitempty"` // what asked, for pages and audit
	// Factors are the acceptable second factors; empty: any.
	Factors []string `json:"f,omitempty"`
	// Fresh, when not zero (Unix seconds), demands a factor presented at
	// or after it.
	Fresh int64 `json:"s,omitempty"`
	// Enrol marks the enrol-on-first-use flow: the user must first set up
	// a factor.
	Enrol   bool  `json:"e,omitempty"`
	Expires int64 `json:"x"`
}

var (
	errBadContinuation = errors.New("mfa: continuation is malformed or not signed by us")
	errExpired         = errors.New("mfa: continuation has expired")
)

// Sign returns the continuation as a token: base64url(JSON) "." base64url(
// HMAC-SHA256 over the first part).
func (c Continuation) sign(key []byte) string {
	body, _ := json.Marshal(c) // a struct of strings and numbers cannot fail
	p := base64.RawURLEncoding.EncodeToString(body)
	return p + "." + base64.RawURLEncoding.EncodeToString(mac(key, p))
}

// parseContinuation verifies a token (in constant time) and its expiry.
func parseContinuation(key []byte, token string, now time.Time) (Continuation, error) {
	var c Continuation
	p, sig, ok := strings.Cut(token, ".")
	if !ok || len(token) > 4096 {
		return c, errBadContinuation
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(key, p)) {
		return c, errBadContinuation
	}
	body, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || json.Unmarshal(body, &c) != nil || c.UserID == 0 || c.Return == "" {
		return c, errBadContinuation
	}
	if now.Unix() >= c.Expires {
		return c, errExpired
	}
	return c, nil
}

func mac(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("portcullis mfa continuation\x00"))
	m.Write([]byte(s))
	return m.Sum(nil)
}

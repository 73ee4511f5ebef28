// Package totpref is the tests' independent reference for TOTP codes: RFC
// 6238 written out by hand on the standard library, with no code of
// pquerna/otp or of mfa/totp, so that a test computing a code with it
// checks the factor rather than restating it. mfa/totp pins it to the RFC's
// vectors and to oathtool.
//
// Only tests and internal/testenv import it.
package totpref

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"time"
)

// Code computes the TOTP code of secret at t by hand, from RFC 6238 §4
// (30-second steps from the Unix epoch) and RFC 4226 §5.3 (HMAC-SHA1,
// dynamic truncation), with digits digits.
func Code(secret []byte, t time.Time, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(t.Unix()/30))
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

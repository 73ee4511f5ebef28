package totp

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"html/template"
	"image/png"
	"io"
	"strconv"
	"strings"

	"github.com/pquerna/otp"
	pqtotp "github.com/pquerna/otp/totp"

	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/store"
)

// The key parameters every authenticator app supports (RFC 6238 defaults).
const (
	period     = 30 // seconds per time step
	secretSize = 20 // bytes: 160 bits, RFC 4226 §4
	digits     = 6
)

const (
	// sealLabel names the master-derived key that seals TOTP secrets.
	sealLabel = "mfa totp"
	// qrSize is the QR code's width and height in pixels.
	qrSize = 240
)

// b32 is how keys are written: base32 without padding (Key Uri Format).
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// key is an enrolment with its opened secret (base32, as hotp takes it).
type key struct {
	enrolment store.Enrolment
	secret    string
}

// aad binds a sealed secret to its user.
func aad(userID int64) []byte { return []byte("user " + strconv.FormatInt(userID, 10)) }

func (f *Factor) seal(userID int64, secret []byte) ([]byte, error) {
	return keys.SealFor(f.core.Master, sealLabel, secret, aad(userID))
}

func (f *Factor) open(e store.Enrolment) ([]byte, error) {
	return keys.OpenFor(f.core.Master, sealLabel, e.Data, aad(e.UserID))
}

// newSecret draws a fresh 160-bit secret.
func (f *Factor) newSecret() ([]byte, error) {
	b := make([]byte, secretSize)
	if _, err := io.ReadFull(f.opts.Rand, b); err != nil {
		return nil, fmt.Errorf("totp: new secret: %w", err)
	}
	return b, nil
}

// otpKey is secret as authenticator apps read it: the otpauth:// URI.
func (f *Factor) otpKey(account string, secret []byte) (*otp.Key, error) {
	return pqtotp.Generate(pqtotp.GenerateOpts{Issuer: f.opts.Issuer, AccountName: account, Secret: secret,
		Period: period, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// confirmed loads the user's confirmed TOTP enrolments.
func (f *Factor) confirmed(ctx context.Context, userID int64) ([]store.Enrolment, error) {
	all, err := f.core.Store.UserEnrolments(ctx, userID)
	if err != nil {
		return nil, err
	}
	var es []store.Enrolment
	for _, e := range all {
		if e.Factor == policy.TOTP && e.Confirmed {
			es = append(es, e)
		}
	}
	return es, nil
}

// openKeys opens the secrets of es. One that does not open (another master
// secret, or an altered row) is logged and left out: it can match nothing.
func (f *Factor) openKeys(ctx context.Context, es []store.Enrolment) []key {
	ks := make([]key, 0, len(es))
	for _, e := range es {
		secret, err := f.open(e)
		if err != nil {
			f.logger().ErrorContext(ctx, "totp secret does not open", "enrolment", e.ID, "err", err)
			continue
		}
		ks = append(ks, key{enrolment: e, secret: b32.EncodeToString(secret)})
	}
	return ks
}

// qrDataURL draws the key's URI as a QR code, a PNG in a data: URL (the CSP
// allows img-src data:), so the secret goes to no other service.
func qrDataURL(k *otp.Key) (template.URL, error) {
	img, err := k.Image(qrSize, qrSize)
	if err != nil {
		return "", fmt.Errorf("totp: QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", fmt.Errorf("totp: QR code: %w", err)
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())), nil
}

// group writes a base32 key in groups of four, as apps accept it typed.
func group(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

package totp

import (
	"context"
	"crypto/subtle"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// window is the steps accepted around the current one, nearest first: one
// step of drift either way (RFC 6238 §5.2).
var window = [...]int64{0, -1, +1}

// claimTTL keeps a used step claimed beyond the last moment its code is
// accepted (the end of the step after it, at most three steps from now)
// plus a step for clock differences between nodes.
const claimTTL = 4 * period * time.Second

var hotpOpts = hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

var (
	errWrong    = errors.New("totp: wrong code")
	errReplayed = errors.New("totp: code already used")
)

// cleanCode strips the spaces and dashes people type and checks that six
// digits remain.
func cleanCode(s string) (string, bool) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, s)
	if len(s) != digits || strings.ContainsFunc(s, func(r rune) bool { return r < '0' || r > '9' }) {
		return "", false
	}
	return s, true
}

// step is the RFC 6238 §4.2 time step T of t (T0 = 0).
func step(t time.Time) int64 { return t.Unix() / period }

// match finds the key and step whose code is code, trying the steps of
// window in turn. Each comparison is constant-time.
func match(ks []key, code string, now time.Time) (key, int64, bool) {
	cur := step(now)
	for _, d := range window {
		s := cur + d
		for _, k := range ks {
			want, err := hotp.GenerateCodeCustom(k.secret, uint64(s), hotpOpts)
			if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
				return k, s, true
			}
		}
	}
	return key{}, 0, false
}

// check verifies code against ks and claims its step for the user in the
// session backend, so that no node accepts a code of that step again.
func (f *Factor) check(ctx context.Context, userID int64, ks []key, code string) (key, error) {
	k, s, ok := match(ks, code, f.core.NowTime())
	if !ok {
		return key{}, errWrong
	}
	won, err := f.core.Replay.Claim(ctx, "totp:"+strconv.FormatInt(userID, 10)+":"+strconv.FormatInt(s, 10), claimTTL)
	if err != nil {
		return key{}, err
	}
	if !won {
		return key{}, errReplayed
	}
	return k, nil
}

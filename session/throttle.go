package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strings"
	"time"
)

// Throttle limits failed attempts (password logins, second factors) per
// user and per client IP. Counters live in the session backend, so the limit
// holds across every node. Scope separates the budgets of different kinds of
// attempt ("login", "mfa"); it defaults to "login".
type Throttle struct {
	Store   Store
	Scope   string
	MaxUser int
	MaxIP   int
	Window  time.Duration
}

// userKey hashes the email so that the session backend never holds a list
// of who tried to log in.
func (t *Throttle) userKey(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return "throttle:" + t.scope() + ":user:" + hex.EncodeToString(sum[:16])
}

func (t *Throttle) scope() string {
	if t.Scope == "" {
		return "login"
	}
	return t.Scope
}

// ipKey groups IPv6 clients by /64, since one client commonly holds a whole
// /64 and could otherwise rotate addresses to escape the limit.
func (t *Throttle) ipKey(ip string) string {
	prefix := "throttle:" + t.scope() + ":ip:"
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return prefix + ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return prefix + p.String()
	}
	return prefix + a.String()
}

// Blocked returns how long the caller must wait before another attempt for
// email from ip, or 0 when an attempt is allowed.
func (t *Throttle) Blocked(ctx context.Context, email, ip string) (time.Duration, error) {
	var wait time.Duration
	for _, c := range []struct {
		key string
		max int
	}{{t.userKey(email), t.MaxUser}, {t.ipKey(ip), t.MaxIP}} {
		n, ttl, err := t.Store.Count(ctx, c.key)
		if err != nil {
			return 0, err
		}
		if n >= int64(c.max) {
			wait = max(wait, ttl, time.Second)
		}
	}
	return wait, nil
}

// Failed counts a failed attempt for email from ip.
func (t *Throttle) Failed(ctx context.Context, email, ip string) error {
	if _, _, err := t.Store.Incr(ctx, t.userKey(email), t.Window); err != nil {
		return err
	}
	_, _, err := t.Store.Incr(ctx, t.ipKey(ip), t.Window)
	return err
}

// Succeeded clears the user's counter; the IP's stays, so one valid account
// cannot be used to reset the budget of an address that guesses others.
func (t *Throttle) Succeeded(ctx context.Context, email string) error {
	return t.Store.Reset(ctx, t.userKey(email))
}

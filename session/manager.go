package session

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gorilla/securecookie"
)

// Defaults for Options.
const (
	DefaultCookieName      = "portcullis_session"
	DefaultIdleTimeout     = time.Hour
	DefaultAbsoluteTimeout = 12 * time.Hour
)

// Options configure a Manager. Store and HashKey are required.
type Options struct {
	Store           Store
	HashKey         []byte           // securecookie hash key, 32 or 64 bytes
	CookieName      string           // default DefaultCookieName
	CookieDomain    string           // optional parent domain
	Secure          bool             // Secure cookie flag (base URL is https)
	IdleTimeout     time.Duration    // default DefaultIdleTimeout
	AbsoluteTimeout time.Duration    // default DefaultAbsoluteTimeout
	Now             func() time.Time // default time.Now
	Rand            io.Reader        // default crypto/rand.Reader
}

// Manager ties a session record to a browser cookie. The cookie is HttpOnly,
// SameSite=Lax, Path=/ and has no Max-Age (a browser-session cookie): the
// server-side deadlines are what end a session, and a closed browser ends it
// sooner. A Manager is safe for concurrent use.
type Manager struct {
	store      Store
	codec      *securecookie.SecureCookie
	name       string
	domain     string
	secure     bool
	idle       time.Duration
	absolute   time.Duration
	touchEvery time.Duration // LastSeen write-back throttle
	now        func() time.Time
	rand       io.Reader
}

// NewManager checks o, fills in defaults and returns a Manager.
func NewManager(o Options) (*Manager, error) {
	o = withDefaults(o)
	if err := o.check(); err != nil {
		return nil, err
	}
	return &Manager{
		store:      o.Store,
		codec:      newCodec(o.HashKey, int(o.AbsoluteTimeout/time.Second)),
		name:       o.CookieName,
		domain:     o.CookieDomain,
		secure:     o.Secure,
		idle:       o.IdleTimeout,
		absolute:   o.AbsoluteTimeout,
		touchEvery: min(time.Minute, o.IdleTimeout/20),
		now:        o.Now,
		rand:       o.Rand,
	}, nil
}

func withDefaults(o Options) Options {
	if o.CookieName == "" {
		o.CookieName = DefaultCookieName
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.AbsoluteTimeout == 0 {
		o.AbsoluteTimeout = DefaultAbsoluteTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	return o
}

// check reports every problem with o at once.
func (o Options) check() error {
	var errs []error
	if o.Store == nil {
		errs = append(errs, errors.New("no Store"))
	}
	if n := len(o.HashKey); n != 32 && n != 64 {
		errs = append(errs, fmt.Errorf("HashKey is %d bytes, want 32 or 64", n))
	}
	if o.IdleTimeout < time.Second || o.AbsoluteTimeout < time.Second {
		errs = append(errs, errors.New("IdleTimeout and AbsoluteTimeout must be at least 1s"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("session: options: %w", err)
	}
	return nil
}

// Store returns the backend, for the counters and claims other packages keep
// in it.
func (m *Manager) Store() Store { return m.store }

// RevokeUser ends every session of the user on every node, and returns how
// many there were.
func (m *Manager) RevokeUser(ctx context.Context, userID int64) (int, error) {
	n, err := m.store.DeleteUser(ctx, userID)
	if err != nil {
		return 0, backendErr("revoke user", err)
	}
	return n, nil
}

// backendErr makes sure that any failure of the backend other than "not
// found" or "conflict" wraps ErrUnavailable, whatever the Store returned, so a caller never
// mistakes it for a missing session or treats the request as logged in.
func backendErr(op string, err error) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return ErrNotFound
	case errors.Is(err, ErrConflict):
		return ErrConflict
	case errors.Is(err, ErrUnavailable):
		return fmt.Errorf("session: %s: %w", op, err)
	default:
		return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
	}
}

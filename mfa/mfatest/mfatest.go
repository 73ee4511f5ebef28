// Package mfatest runs the MFA core (package mfa) on real backends for the
// tests of the factor packages (mfa/totp, mfa/webauthn, mfa/recovery,
// mfa/push): a SQLite store in a temporary folder, a session backend, a
// master secret and a clock the test moves, shared by one or more nodes
// (Env.Node), and browsers that keep their cookies and CSRF token
// (Env.Browser). Each factor's test harness adds only its factor and its
// own helpers.
//
// It is test support: only _test.go files may import it, which its own test
// checks. The core's tests (package mfa) cannot use it, since it imports
// mfa.
package mfatest

import (
	"cmp"
	"context"
	"crypto/rand"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/session/memory"
	"github.com/portcullis/portcullis/session/sessiontest"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/sqlite"
)

// Options vary an Env. The zero value is a memory session backend, a clock
// near the real time and the failure limits of the factors' tests.
type Options struct {
	// Replay is the session backend; nil is a fresh memory store.
	Replay session.Store
	// Clock is the cores' clock; nil is a new one near the real time
	// (which the session manager keeps), in the middle of a 30-second TOTP
	// step. Pass one to share it with Replay.
	Clock *sessiontest.ManualClock
	// MaxFailuresPerUser and MaxFailuresPerIP limit failed second-factor
	// attempts within FailureWindow; zero means 5, 100 and 15 minutes.
	MaxFailuresPerUser, MaxFailuresPerIP int
	FailureWindow                        time.Duration
	// CSRF mounts the nodes behind real CSRF protection (Node.CSRF).
	CSRF bool
}

// Env is the backends a test's nodes share: the store, the session backend
// and the master secret, and the clock of their cores.
type Env struct {
	T      testing.TB
	Store  store.Store
	Replay session.Store
	Master *keys.Master
	// ManualClock is the cores' clock: Env.Now reads it, Env.Advance
	// moves it.
	*sessiontest.ManualClock

	opts Options
}

// New opens an Env for t; the store is closed when t ends. Each Env has
// its own random master secret.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m, err := keys.NewMaster(rand.Text() + rand.Text())
	if err != nil {
		t.Fatal(err)
	}
	if o.Replay == nil {
		o.Replay = memory.New()
	}
	if o.Clock == nil {
		o.Clock = sessiontest.NewManualClock(time.Now().UTC().Truncate(30 * time.Second).Add(15 * time.Second))
	}
	o.MaxFailuresPerUser = cmp.Or(o.MaxFailuresPerUser, 5)
	o.MaxFailuresPerIP = cmp.Or(o.MaxFailuresPerIP, 100)
	o.FailureWindow = cmp.Or(o.FailureWindow, 15*time.Minute)
	return &Env{T: t, Store: st, Replay: o.Replay, Master: m, ManualClock: o.Clock, opts: o}
}

// User creates a user called email.
func (e *Env) User(email string) store.User {
	e.T.Helper()
	u := store.User{Email: email, Name: strings.Split(email, "@")[0]}
	if err := e.Store.CreateUser(context.Background(), &u); err != nil {
		e.T.Fatal(err)
	}
	return u
}

// Enrolments lists u's enrolments, of every factor.
func (e *Env) Enrolments(u store.User) []store.Enrolment {
	e.T.Helper()
	es, err := e.Store.UserEnrolments(context.Background(), u.ID)
	if err != nil {
		e.T.Fatal(err)
	}
	return es
}

// Events lists the audit events of the given types (every type when none
// are given), newest first.
func (e *Env) Events(types ...string) []audit.Event {
	e.T.Helper()
	return e.events(store.EventFilter{Types: types})
}

func (e *Env) events(f store.EventFilter) []audit.Event {
	e.T.Helper()
	evs, err := e.Store.ListEvents(context.Background(), f)
	if err != nil {
		e.T.Fatal(err)
	}
	return evs
}

// HasFactor reports whether s (which may be nil) records the factor name.
func HasFactor(s *session.Session, name string) bool {
	if s == nil {
		return false
	}
	for _, f := range s.Factors {
		if f.Name == name {
			return true
		}
	}
	return false
}

// TOTPStandIn stands in for the authenticator-app factor beside the factor
// under test, so that a user can have a second kind of factor. It serves
// nothing.
type TOTPStandIn struct{}

// Name implements mfa.Factor.
func (TOTPStandIn) Name() string { return policy.TOTP }

// Title implements mfa.Factor.
func (TOTPStandIn) Title() string { return "Authenticator app" }

// Mount implements mfa.Factor: there is nothing to mount.
func (TOTPStandIn) Mount(*http.ServeMux, func(http.Handler) http.Handler) {}

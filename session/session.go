// Package session owns the browser session: the server-side record (who, when
// they authenticated, which factors they used and when, the SAML session
// index per app for single logout), the Store interface its backends
// implement, and the Manager that ties a record to a cookie.
//
// The cookie carries only an opaque ticket, signed with securecookie: a random
// session ID. The backend keys the record by a hash of that ID and holds it
// encrypted with a key derived from it (AES-256-GCM), so a dump of Redis
// reveals nothing that could be replayed as a cookie or read as a profile.
//
// Backends: session/memory (one node, the default) and session/redis (several
// nodes). Both keep a per-user index so that RevokeUser ends every session of a
// user on every node at once, and both offer the counters and claims used for
// login throttling and replay caches, so those limits hold across nodes.
// session/sessiontest is the conformance suite.
//
// Timeouts: a session ends at the earlier of its idle deadline (last use plus
// the idle timeout) and its absolute deadline (creation plus the absolute
// timeout). Last use is written back at most once a minute (or once per
// twentieth of the idle timeout, whichever is smaller) so that a busy page
// does not write on every request.
//
// Concurrent writes: the Store keeps a version beside each (opaque,
// encrypted) record; Put starts it at 1 and Replace writes only if the stored
// version is still the one the writer read, bumping it, and returns
// ErrConflict otherwise. Two requests of one browser (two apps opened at once
// from the portal) therefore cannot silently lose each other's change:
// Manager.Update re-reads the record and re-applies its change on conflict,
// so both SAML entries survive and single logout reaches both apps. The
// LastSeen write-back in Load uses the same check and is simply skipped on
// conflict, since whoever won has just refreshed the record. Save and Rotate
// write the caller's copy whole (last writer wins) and are for callers whose
// copy is the whole truth; a read-modify-write uses Update. The version lives
// beside the ciphertext, not inside it, because the backend cannot read the
// record.
//
// Copies: a node may keep copies of records in memory (forward auth's
// memo) only if every write reaches it first. Announcing wraps a Store so
// that each write of a record, and each DeleteUser, is announced with its
// topic (RecordTopic, UserTopic) once done; Manager.Key names the record a
// request's cookie points to without reading it, and Manager.Stable says
// until when a copy answers as Load would.
//
// Failure: when the backend cannot be reached the Manager returns an error
// wrapping ErrUnavailable; callers answer 503 and never treat the request as
// logged in.
//
// session is layer 1: it imports only the standard library, securecookie and
// layer 0 packages.
package session

import (
	"context"
	"errors"
	"time"
)

// Errors.
var (
	// ErrNotFound means no such record (or counter), or it has expired.
	ErrNotFound = errors.New("session: not found")
	// ErrUnavailable means the backend could not be reached.
	ErrUnavailable = errors.New("session: backend unavailable")
	// ErrConflict means the record changed since it was read: Store.Replace
	// found another version, or Manager.Update gave up after retrying.
	ErrConflict = errors.New("session: record changed concurrently")
)

// Factor names.
const (
	FactorPassword = "password"
	FactorUpstream = "upstream" // an assertion from an upstream IdP
	FactorTOTP     = "totp"
	FactorWebAuthn = "webauthn"
	FactorPush     = "push"
	FactorRecovery = "recovery"
)

// Factor records one factor the user presented in this session.
type Factor struct {
	Name string    `json:"name"`
	At   time.Time `json:"at"`
}

// SAMLEntry records one app this session signed in to over SAML, for single
// logout.
type SAMLEntry struct {
	App          string `json:"app"`
	SessionIndex string `json:"session_index"`
	NameID       string `json:"name_id"`
	NameIDFormat string `json:"name_id_format,omitempty"`
}

// Session is the server-side record of one browser session.
type Session struct {
	ID        string            `json:"-"` // the ticket in the cookie; never stored
	UserID    int64             `json:"user_id"`
	Email     string            `json:"email"`
	AuthTime  time.Time         `json:"auth_time"` // primary authentication
	CreatedAt time.Time         `json:"created_at"`
	LastSeen  time.Time         `json:"last_seen"`
	Factors   []Factor          `json:"factors,omitempty"`
	MFATime   time.Time         `json:"mfa_time,omitzero"` // last second factor; zero: none
	SAML      []SAMLEntry       `json:"saml,omitempty"`
	IP        string            `json:"ip,omitempty"`
	UserAgent string            `json:"user_agent,omitempty"`
	Values    map[string]string `json:"values,omitempty"` // small per-flow state
}

// AddFactor records that the user presented factor name at time at. A
// second factor also sets MFATime.
func (s *Session) AddFactor(name string, at time.Time) {
	if name != FactorPassword && name != FactorUpstream {
		s.MFATime = at
	}
	for i := range s.Factors {
		if s.Factors[i].Name == name {
			s.Factors[i].At = at
			return
		}
	}
	s.Factors = append(s.Factors, Factor{Name: name, At: at})
}

// Store is a session backend. Keys are opaque strings chosen by the Manager;
// records are opaque (already encrypted) bytes. Each record carries a version
// the backend keeps beside the bytes, for optimistic concurrency: a positive
// number that changes on every write of the record. Every method returns an
// error wrapping ErrUnavailable when the backend cannot be reached. A ttl or
// window must be positive: nothing is kept forever.
type Store interface {
	// Put writes a record for userID that expires after ttl, and indexes it
	// under userID. A new record has version 1; overwriting a live one bumps
	// its version, so a writer holding the old one gets ErrConflict.
	Put(ctx context.Context, key string, userID int64, data []byte, ttl time.Duration) error
	// Replace overwrites a record that exists, like Put, but only if its
	// version is still version (the one Get returned), and bumps the version.
	// It returns ErrNotFound if there is no record, so that a write-back
	// racing a Delete or DeleteUser (logout, revocation) cannot bring it
	// back, and ErrConflict, leaving the record as it is, if another write
	// came first. The check and the write are one atomic step.
	Replace(ctx context.Context, key string, userID int64, data []byte, ttl time.Duration, version int64) error
	// Get returns the record and its version, or ErrNotFound.
	Get(ctx context.Context, key string) (data []byte, version int64, err error)
	// Delete removes the record and its index entry; deleting a missing key
	// is not an error.
	Delete(ctx context.Context, key string) error
	// DeleteUser removes every record indexed under userID and returns how
	// many there were.
	DeleteUser(ctx context.Context, userID int64) (int, error)
	// Incr adds one to the counter key and returns its new value and the time
	// left in its window. A new counter lives for window (a fixed window).
	Incr(ctx context.Context, key string, window time.Duration) (int64, time.Duration, error)
	// Count returns the counter's value and the time left, or 0 and 0 if it
	// does not exist.
	Count(ctx context.Context, key string) (int64, time.Duration, error)
	// Reset removes the counter key.
	Reset(ctx context.Context, key string) error
	// Claim records key for ttl if it is not yet recorded and reports whether
	// this call recorded it: the first claimer wins (replay caches).
	Claim(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// Ping reports whether the backend answers.
	Ping(ctx context.Context) error
	// Close releases resources.
	Close() error
}

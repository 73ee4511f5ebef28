// Package memory is the session backend for a single node: records, the
// per-user index, counters and claims in maps behind one mutex. It is the
// default when no Redis is configured. Nothing survives a restart and nothing
// is shared between nodes, so a deployment with several nodes must use
// session/redis instead.
//
// Expiry follows a clock passed in (WithNow), so tests can move time forward.
// An expired entry is never returned, and expired entries are swept out on a
// write at most once per sweep interval, so memory is bounded by what was
// written during one TTL plus one interval, without a background goroutine.
//
// Any package may import it; only cmd/gateway should choose it.
package memory

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/portcullis/portcullis/session"
)

// sweepInterval is how often, at most, a write sweeps expired entries out.
const sweepInterval = time.Minute

// Store is an in-memory session.Store. The zero value is not usable; call New.
type Store struct {
	now func() time.Time

	mu        sync.Mutex
	records   map[string]record
	users     map[int64]map[string]struct{} // user ID -> record keys
	counters  map[string]counter
	claims    map[string]time.Time // key -> expiry
	nextSweep time.Time
}

type record struct {
	data    []byte
	userID  int64
	expires time.Time
	version int64 // 1 when created, one more on every write
}

type counter struct {
	n       int64
	expires time.Time
}

// Option configures a Store.
type Option func(*Store)

// WithNow sets the clock that expiry follows (default time.Now).
func WithNow(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// New returns an empty Store.
func New(opts ...Option) *Store {
	s := &Store{
		now:      time.Now,
		records:  make(map[string]record),
		users:    make(map[int64]map[string]struct{}),
		counters: make(map[string]counter),
		claims:   make(map[string]time.Time),
	}
	for _, o := range opts {
		o(s)
	}
	s.nextSweep = s.now().Add(sweepInterval)
	return s
}

// Put writes a record that expires after ttl and indexes it under userID.
// A new record has version 1; overwriting a live one bumps its version.
func (s *Store) Put(_ context.Context, key string, userID int64, data []byte, ttl time.Duration) error {
	if err := checkTTL(ttl); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweep(now)
	old, _ := s.live(key, now) // version 0 when there is none
	s.set(key, record{data: clone(data), userID: userID, expires: now.Add(ttl), version: old.version + 1})
	return nil
}

// Replace overwrites a live record whose version is still version, bumping
// it, under the mutex so that of concurrent writers holding one version
// exactly one wins. It returns session.ErrNotFound if there is no live
// record and session.ErrConflict if the version has moved on.
func (s *Store) Replace(_ context.Context, key string, userID int64, data []byte, ttl time.Duration, version int64) error {
	if err := checkTTL(ttl); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	old, ok := s.live(key, now)
	if !ok {
		return session.ErrNotFound
	}
	if old.version != version {
		return session.ErrConflict
	}
	s.set(key, record{data: clone(data), userID: userID, expires: now.Add(ttl), version: version + 1})
	return nil
}

// Get returns a live record and its version, or session.ErrNotFound.
func (s *Store) Get(_ context.Context, key string) ([]byte, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.live(key, s.now())
	if !ok {
		return nil, 0, session.ErrNotFound
	}
	return clone(r.data), r.version, nil
}

// Delete removes the record and its index entry.
func (s *Store) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remove(key)
	return nil
}

// DeleteUser removes every live record of userID and returns how many there
// were.
func (s *Store) DeleteUser(_ context.Context, userID int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now, n := s.now(), 0
	for key := range s.users[userID] {
		if _, ok := s.live(key, now); ok {
			n++
		}
		s.remove(key)
	}
	return n, nil
}

// Ping always succeeds: the store is in this process.
func (s *Store) Ping(context.Context) error { return nil }

// Close does nothing: the store holds no connections or goroutines.
func (s *Store) Close() error { return nil }

// live returns the record at key if it has not expired, and drops it if it
// has. The caller holds s.mu.
func (s *Store) live(key string, now time.Time) (record, bool) {
	r, ok := s.records[key]
	if ok && !now.Before(r.expires) {
		s.remove(key)
		return record{}, false
	}
	return r, ok
}

// set stores r at key and keeps the user index in step, also when the key
// moves to another user. The caller holds s.mu.
func (s *Store) set(key string, r record) {
	if old, ok := s.records[key]; ok && old.userID != r.userID {
		s.unindex(old.userID, key)
	}
	s.records[key] = r
	keys := s.users[r.userID]
	if keys == nil {
		keys = make(map[string]struct{})
		s.users[r.userID] = keys
	}
	keys[key] = struct{}{}
}

// remove deletes the record at key and its index entry. The caller holds s.mu.
func (s *Store) remove(key string) {
	r, ok := s.records[key]
	if !ok {
		return
	}
	delete(s.records, key)
	s.unindex(r.userID, key)
}

// unindex drops key from userID's index, and the index once it is empty so
// that users who logged out leave nothing behind.
func (s *Store) unindex(userID int64, key string) {
	keys := s.users[userID]
	delete(keys, key)
	if len(keys) == 0 {
		delete(s.users, userID)
	}
}

func checkTTL(ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("session/memory: ttl %v is not positive", ttl)
	}
	return nil
}

// clone keeps callers from sharing a byte slice with the store.
func clone(b []byte) []byte { return append([]byte(nil), b...) }

var _ session.Store = (*Store)(nil)

package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// putFunc is Store.Put, or Store.Replace at a version (replaceAt).
type putFunc func(ctx context.Context, key string, userID int64, data []byte, ttl time.Duration) error

// replaceAt is Store.Replace expecting version.
func (m *Manager) replaceAt(version int64) putFunc {
	return func(ctx context.Context, key string, userID int64, data []byte, ttl time.Duration) error {
		return m.store.Replace(ctx, key, userID, data, ttl, version)
	}
}

// Load returns the session the request's cookie names. It returns
// ErrNotFound when there is no cookie, the cookie is invalid, or the record is
// missing or past its idle or absolute deadline, and an error wrapping
// ErrUnavailable when the backend fails. It records the use in LastSeen,
// writing it back at most once per write-back interval (see the package doc).
// The write-back is only a touch: if another request wrote the record since
// it was read, it is skipped, since that write refreshed the record already
// and must not be undone.
func (m *Manager) Load(r *http.Request) (*Session, error) {
	t, ok := m.readCookie(r)
	if !ok {
		return nil, ErrNotFound
	}
	s, version, err := m.fetch(r.Context(), t)
	if err != nil {
		return nil, err
	}
	if now := m.now(); now.Sub(s.LastSeen) >= m.touchEvery {
		s.LastSeen = now
		err := m.write(r.Context(), t, s, m.replaceAt(version))
		if err != nil && !errors.Is(err, ErrConflict) {
			return nil, err
		}
	}
	return s, nil
}

// Login stores s under a new random ID and writes the cookie to w. Any
// session r's cookie names is deleted first, so an ID planted before login
// (session fixation) never becomes a logged-in one. It sets s.ID, and
// CreatedAt and LastSeen when they are zero.
func (m *Manager) Login(ctx context.Context, w http.ResponseWriter, r *http.Request, s *Session) error {
	if old, ok := m.readCookie(r); ok {
		if err := m.store.Delete(ctx, old.storageKey()); err != nil {
			return backendErr("login", err)
		}
	}
	now := m.now()
	if s.CreatedAt.IsZero() {
		s.CreatedAt = now
	}
	if s.LastSeen.IsZero() {
		s.LastSeen = now
	}
	return m.issue(ctx, w, s)
}

// maxUpdateAttempts bounds how often Update re-reads and re-applies its
// change when other writes keep coming first. Every conflict means another
// write finished in between, so up to this many requests of one browser
// updating the session at once all succeed.
const maxUpdateAttempts = 8

// Update applies fn to the freshest record of s's session and writes the
// result back only if nobody wrote the record in between; on a conflict it
// reads the record again and re-applies fn, up to maxUpdateAttempts times,
// and then returns an error wrapping ErrConflict. fn may therefore run more
// than once, each time on a fresh copy, and must make its change from what it
// is given (append an entry, set a factor), not from s. An error from fn ends
// Update with that error and writes nothing. On success s holds the record as
// written. It returns ErrNotFound if the session has ended (logout,
// revocation, expiry) rather than bring it back.
func (m *Manager) Update(ctx context.Context, s *Session, fn func(*Session) error) error {
	t, ok := parseTicket(s.ID)
	if !ok {
		return fmt.Errorf("%w: update: session has no valid ID", ErrNotFound)
	}
	for range maxUpdateAttempts {
		cur, version, err := m.fetch(ctx, t)
		if err != nil {
			return err
		}
		if err := fn(cur); err != nil {
			return err
		}
		cur.ID = t.id
		cur.LastSeen = m.now()
		err = m.write(ctx, t, cur, m.replaceAt(version))
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		*s = *cur
		return nil
	}
	return fmt.Errorf("%w: update: gave up after %d attempts", ErrConflict, maxUpdateAttempts)
}

// Save writes s back whole under its current ID: last writer wins, so a
// change another request made since s was loaded is lost. It is for a caller
// whose copy is the whole truth; a read-modify-write that may race another
// request of the same browser (a new factor, a SAML entry) must use Update.
// It returns ErrNotFound if the session has ended meanwhile (logout,
// revocation, expiry) rather than bring it back.
func (m *Manager) Save(ctx context.Context, s *Session) error {
	whole := *s
	return m.Update(ctx, s, func(cur *Session) error {
		*cur = whole
		return nil
	})
}

// Rotate gives s a new ID (at step-up), deleting the old record, and rewrites
// the cookie. The old record goes first: if the backend fails halfway the
// user is logged out rather than left with two live IDs. Like Save it writes
// s whole (last writer wins): a write to the old ID after the caller loaded
// s is lost, and one after the delete finds the record gone.
func (m *Manager) Rotate(ctx context.Context, w http.ResponseWriter, s *Session) error {
	old, ok := parseTicket(s.ID)
	if !ok {
		return fmt.Errorf("%w: rotate: session has no valid ID", ErrNotFound)
	}
	if err := m.store.Delete(ctx, old.storageKey()); err != nil {
		return backendErr("rotate", err)
	}
	s.LastSeen = m.now()
	return m.issue(ctx, w, s)
}

// Logout deletes the session r's cookie names, if any, clears the cookie and
// returns the ended session (nil if there was none) so the caller can run
// single logout for its SAML entries. The cookie is cleared even when the
// backend fails.
func (m *Manager) Logout(ctx context.Context, w http.ResponseWriter, r *http.Request) (*Session, error) {
	m.clearCookie(w)
	t, ok := m.readCookie(r)
	if !ok {
		return nil, nil
	}
	s, err := m.ending(ctx, t)
	if err != nil {
		return nil, err
	}
	if err := m.store.Delete(ctx, t.storageKey()); err != nil {
		return nil, backendErr("logout", err)
	}
	return s, nil
}

// issue stores s under a fresh ID and points the cookie at it. s.ID changes
// only on success.
func (m *Manager) issue(ctx context.Context, w http.ResponseWriter, s *Session) error {
	t, err := newTicket(m.rand)
	if err != nil {
		return err
	}
	if err := m.write(ctx, t, s, m.store.Put); err != nil {
		return err
	}
	if err := m.writeCookie(w, t); err != nil {
		return fmt.Errorf("session: cookie: %w", err)
	}
	s.ID = t.id
	return nil
}

// fetch reads and opens the record t names, with its version, and checks its
// deadlines.
func (m *Manager) fetch(ctx context.Context, t ticket) (*Session, int64, error) {
	data, version, err := m.store.Get(ctx, t.storageKey())
	if err != nil {
		return nil, 0, backendErr("load", err)
	}
	s, err := t.open(data)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if m.ttl(s, m.now()) <= 0 {
		// The backend's TTL normally gets there first. The delete is only
		// housekeeping: the session is refused whether or not it succeeds.
		_ = m.store.Delete(ctx, t.storageKey())
		return nil, 0, ErrNotFound
	}
	return s, version, nil
}

// ending returns the record Logout is about to delete, nil if there is none
// or it cannot be opened. Deadlines are not checked: a session that just
// timed out still has app sessions worth logging out of.
func (m *Manager) ending(ctx context.Context, t ticket) (*Session, error) {
	data, _, err := m.store.Get(ctx, t.storageKey())
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, backendErr("logout", err)
	}
	s, err := t.open(data)
	if err != nil {
		return nil, nil
	}
	return s, nil
}

// write seals s and stores it under t for the time left until its deadline.
func (m *Manager) write(ctx context.Context, t ticket, s *Session, put putFunc) error {
	ttl := m.ttl(s, m.now())
	if ttl <= 0 {
		return fmt.Errorf("%w: session has expired", ErrNotFound)
	}
	data, err := t.seal(m.rand, s)
	if err != nil {
		return err
	}
	if err := put(ctx, t.storageKey(), s.UserID, data, ttl); err != nil {
		return backendErr("save", err)
	}
	return nil
}

// ttl is the time from now until the earlier of s's idle deadline (last use
// plus the idle timeout) and its absolute deadline (creation plus the
// absolute timeout).
func (m *Manager) ttl(s *Session, now time.Time) time.Duration {
	return m.deadline(s).Sub(now)
}

// deadline is when s ends: the earlier of its idle and absolute deadlines.
func (m *Manager) deadline(s *Session) time.Time {
	deadline := s.LastSeen.Add(m.idle)
	if absolute := s.CreatedAt.Add(m.absolute); absolute.Before(deadline) {
		deadline = absolute
	}
	return deadline
}

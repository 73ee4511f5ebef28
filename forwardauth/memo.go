package forwardauth

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
)

// DefaultMemoTTL bounds how long a copy lives however coherent the bus: a
// writer that reaches the database but not Redis cannot announce its write,
// and an operator may change the database by hand.
const DefaultMemoTTL = 2 * time.Second

// DefaultMemoSize bounds the number of sessions kept.
const DefaultMemoSize = 100_000

// Memo keeps, per session, what a one_factor decision reads (the session's
// user and the user's groups), so that a request of a session seen a moment
// ago is decided without Redis or the database. It stays coherent through
// the session bus: every write to a session or to the directory, from any
// node or the CLI, is announced (Invalidate) and waits until each node has
// dropped its copy, and a node answers from its copies only while its bus
// holds the lease (Trusted) that proves it has heard every announcement.
// A copy also ends at its session's next deadline or LastSeen write-back
// (Manager.Stable) and after TTL. A Memo is safe for concurrent use.
type Memo struct {
	// Key returns the storage key of the request's session
	// (session.Manager.Key).
	Key func(r *http.Request) (string, bool)
	// Stable returns until when Load would return the session unchanged
	// (session.Manager.Stable).
	Stable func(s *session.Session) time.Time
	// Trusted reports whether copies may be used now (the bus's lease).
	Trusted func() bool
	TTL     time.Duration    // default DefaultMemoTTL
	Size    int              // default DefaultMemoSize
	Now     func() time.Time // default time.Now

	mu      sync.RWMutex
	gen     uint64 // moves on with every invalidation
	entries map[string]memoEntry

	hits, misses atomic.Int64
}

// memoEntry is the copy kept for one session.
type memoEntry struct {
	user   store.User
	groups []string
	until  time.Time
}

func (m *Memo) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Stats returns how many one_factor decisions were answered from the memo
// and how many read the backends.
func (m *Memo) Stats() (hits, misses int64) { return m.hits.Load(), m.misses.Load() }

// lookup returns the copy for key if it may be used now, and otherwise the
// generation a copy read from now on must be filled at.
func (m *Memo) lookup(key string) (e memoEntry, gen uint64, ok bool) {
	m.mu.RLock()
	e, ok = m.entries[key]
	gen = m.gen
	m.mu.RUnlock()
	if ok && m.now().Before(e.until) && m.Trusted() {
		m.hits.Add(1)
		return e, gen, true
	}
	m.misses.Add(1)
	return memoEntry{}, gen, false
}

// fill keeps a copy of what was read for key since generation gen, unless
// an invalidation came in between: the read may then predate the write.
func (m *Memo) fill(gen uint64, key string, s *session.Session, u store.User, groups []string) {
	ttl := m.TTL
	if ttl <= 0 {
		ttl = DefaultMemoTTL
	}
	until := m.now().Add(ttl)
	if stable := m.Stable(s); stable.Before(until) {
		until = stable
	}
	size := m.Size
	if size <= 0 {
		size = DefaultMemoSize
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gen != gen {
		return
	}
	if m.entries == nil {
		m.entries = map[string]memoEntry{}
	}
	if _, ok := m.entries[key]; !ok && len(m.entries) >= size {
		for k := range m.entries { // an arbitrary one: map order
			delete(m.entries, k)
			break
		}
	}
	m.entries[key] = memoEntry{user: u, groups: groups, until: until}
}

// Invalidate drops the copies a write announced on the session bus
// touched: a session's (session.RecordTopic), a user's (UserTopic), or all
// (AllTopic, the directory). Any invalidation also fails every fill that
// started before it.
func (m *Memo) Invalidate(topic string) {
	key, userID, all := session.ParseTopic(topic)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gen++
	switch {
	case all:
		clear(m.entries)
	case key != "":
		delete(m.entries, key)
	default:
		for k, e := range m.entries {
			if e.user.ID == userID {
				delete(m.entries, k)
			}
		}
	}
}

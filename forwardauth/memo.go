package forwardauth

import (
	"crypto/sha256"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
)

// DefaultMemoTTL bounds how long a copy lives however coherent the bus: a
// writer that reaches the database but not Redis cannot announce its write,
// and an operator may change the database by hand.
const DefaultMemoTTL = 2 * time.Second

// DefaultMemoSize bounds the number of sessions kept.
const DefaultMemoSize = 100_000

// Memo keeps, per session, what a decision reads (the session's user, its
// factors, the user's groups and, once a two_factor rule has asked, the
// user's enrolled factors), so that a request of a session seen a moment
// ago is decided without Redis or the database. It stays coherent through
// the session bus: every write to a session or to the directory, from any
// node or the CLI, is announced (Invalidate) and waits until each node has
// dropped its copy, and a node answers from its copies only while its bus
// holds the lease (Trusted) that proves it has heard every announcement.
// A copy also ends at its session's next deadline or LastSeen write-back
// (Manager.Stable) and after TTL. A Memo is safe for concurrent use.
//
// Copies are found by a SHA-256 digest of the session cookie's value: a
// request whose first session cookie has the value a copy was made from
// names the same session (Manager.FirstCookie), so a hit costs neither the
// cookie's MAC nor the storage key's hash, and no cookie is kept.
type Memo struct {
	// Key returns the storage key of the request's session and the cookie
	// value it came from (session.Manager.Key).
	Key func(r *http.Request) (key, cookie string, ok bool)
	// Cookie returns the request's first session cookie, unchecked
	// (session.Manager.FirstCookie).
	Cookie func(r *http.Request) (string, bool)
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
	entries map[digest]memoEntry
	byKey   map[string]digest         // storage key → its copy
	byUser  map[int64]map[digest]bool // user → the copies of their sessions

	hits, misses atomic.Int64
}

// digest is the SHA-256 of a session cookie's value.
type digest [sha256.Size]byte

// digestOf hashes a cookie's value, copying it to the stack rather than
// the heap when it is of a session cookie's size.
func digestOf(cookie string) digest {
	var buf [256]byte
	return sha256.Sum256(append(buf[:0], cookie...))
}

// memoEntry is the copy kept for one session.
type memoEntry struct {
	key  string // the session's storage key
	user store.User
	// sub holds the user's groups and the session's factors, and the
	// user's enrolled factors when enrolled is set: a one_factor fill does
	// not read them, a two_factor one does.
	sub      policy.Subject
	enrolled bool
	until    time.Time
}

func (m *Memo) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Stats returns how many decisions were answered from the memo and how
// many read the backends.
func (m *Memo) Stats() (hits, misses int64) { return m.hits.Load(), m.misses.Load() }

// lookup returns the copy for r's session if it may be used now (and
// knows the enrolled factors, if enrolled asks for them), and otherwise the
// generation a copy read from now on must be filled at.
func (m *Memo) lookup(r *http.Request, enrolled bool) (e memoEntry, gen uint64, ok bool) {
	cookie, found := m.Cookie(r)
	d := digestOf(cookie)
	m.mu.RLock()
	if found {
		e, ok = m.entries[d]
	}
	gen = m.gen
	m.mu.RUnlock()
	if ok && (e.enrolled || !enrolled) && m.now().Before(e.until) && m.Trusted() {
		m.hits.Add(1)
		return e, gen, true
	}
	m.misses.Add(1)
	return memoEntry{}, gen, false
}

// fill keeps a copy of what was read for r's session since generation
// gen, unless an invalidation came in between: the read may then predate
// the write. enrolled tells whether sub holds the enrolled factors.
func (m *Memo) fill(r *http.Request, gen uint64, s *session.Session, u store.User, sub policy.Subject, enrolled bool) {
	key, cookie, ok := m.Key(r)
	if !ok {
		return
	}
	d := digestOf(cookie)
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
		m.entries, m.byKey, m.byUser = map[digest]memoEntry{}, map[string]digest{}, map[int64]map[digest]bool{}
	}
	if old, ok := m.byKey[key]; ok {
		m.drop(old) // one copy per session, whichever cookie
	}
	m.drop(d) // the same cookie refilled, perhaps for another user now
	if len(m.entries) >= size {
		for k := range m.entries { // an arbitrary one: map order
			m.drop(k)
			break
		}
	}
	m.entries[d] = memoEntry{key: key, user: u, sub: sub, enrolled: enrolled, until: until}
	m.byKey[key] = d
	if m.byUser[u.ID] == nil {
		m.byUser[u.ID] = map[digest]bool{}
	}
	m.byUser[u.ID][d] = true
}

// drop removes a copy and its index entries; m.mu is held.
func (m *Memo) drop(d digest) {
	e, ok := m.entries[d]
	if !ok {
		return
	}
	delete(m.entries, d)
	delete(m.byKey, e.key)
	if copies := m.byUser[e.user.ID]; copies != nil {
		delete(copies, d)
		if len(copies) == 0 {
			delete(m.byUser, e.user.ID)
		}
	}
}

// Invalidate drops the copies a write announced on the session bus
// touched: a session's (session.RecordTopic), some users' (UserTopic: their
// sessions, or what the directory says of them), or all (AllTopic: a group
// changed). Any invalidation also fails every fill that started before it.
func (m *Memo) Invalidate(topic string) {
	key, users, all := session.ParseTopic(topic)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gen++
	switch {
	case all:
		clear(m.entries)
		clear(m.byKey)
		clear(m.byUser)
	case key != "":
		if d, ok := m.byKey[key]; ok {
			m.drop(d)
		}
	default:
		for _, id := range users {
			for d := range m.byUser[id] {
				m.drop(d)
			}
		}
	}
}

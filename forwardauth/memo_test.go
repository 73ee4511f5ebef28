package forwardauth

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
)

// memoClock is a Memo on a manual clock with a switchable lease, whose
// sessions are stable for an hour unless stable is set.
type memoClock struct {
	now     time.Time
	trusted bool
	stable  time.Time
}

func newTestMemo(c *memoClock) *Memo {
	c.now = time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
	c.trusted = true
	return &Memo{
		// A cookie "c=V" names the session stored under "s:V", except
		// that V and V+"-alias" both name "s:V".
		Key: func(r *http.Request) (string, string, bool) {
			k, err := r.Cookie("c")
			if err != nil {
				return "", "", false
			}
			return "s:" + strings.TrimSuffix(k.Value, "-alias"), k.Value, true
		},
		Cookie: func(r *http.Request) (string, bool) {
			k, err := r.Cookie("c")
			if err != nil {
				return "", false
			}
			return k.Value, true
		},
		Now:     func() time.Time { return c.now },
		Trusted: func() bool { return c.trusted },
		Stable: func(*session.Session) time.Time {
			if !c.stable.IsZero() {
				return c.stable
			}
			return c.now.Add(time.Hour)
		},
	}
}

// withCookie is a request with session cookie "c=value".
func withCookie(value string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/auth/request", nil)
	r.AddCookie(&http.Cookie{Name: "c", Value: value})
	return r
}

// put fills the copy of the session the cookie value names.
func (m *Memo) put(cookie string, userID int64, groups ...string) {
	r := withCookie(cookie)
	_, gen, _ := m.lookup(r, false)
	m.fill(r, gen, &session.Session{}, store.User{ID: userID}, policy.Subject{Groups: groups}, false)
}

func (m *Memo) has(cookie string) bool {
	_, _, ok := m.lookup(withCookie(cookie), false)
	return ok
}

func TestMemoKeepsWhatItRead(t *testing.T) {
	var c memoClock
	m := newTestMemo(&c)
	if m.has("a") {
		t.Fatal("an empty memo has a copy")
	}
	m.put("a", 1, "staff")
	e, _, ok := m.lookup(withCookie("a"), false)
	if !ok || e.user.ID != 1 || !slices.Equal(e.sub.Groups, []string{"staff"}) {
		t.Fatalf("lookup = %+v, %v", e, ok)
	}
	c.trusted = false
	if m.has("a") {
		t.Error("a copy was used without the bus's lease")
	}
	c.trusted = true
	c.now = c.now.Add(DefaultMemoTTL)
	if m.has("a") {
		t.Error("a copy outlived the memo's TTL")
	}
	c.stable = c.now.Add(time.Second)
	m.put("a", 1)
	c.now = c.now.Add(time.Second)
	if m.has("a") {
		t.Error("a copy outlived its session's next write-back or deadline")
	}
	if hits, misses := m.Stats(); hits != 1 || misses != 6 {
		t.Errorf("Stats = %d hits, %d misses; want 1, 6", hits, misses)
	}
}

// TestMemoFillAfterInvalidation: a read that started before a write was
// announced may hold what the write changed, so it is not kept.
func TestMemoFillAfterInvalidation(t *testing.T) {
	var c memoClock
	m := newTestMemo(&c)
	r := withCookie("a")
	_, gen, _ := m.lookup(r, false)
	m.Invalidate(session.RecordTopic("s:other"))
	m.fill(r, gen, &session.Session{}, store.User{ID: 1}, policy.Subject{}, false)
	if m.has("a") {
		t.Error("a read older than an invalidation was kept")
	}
}

func TestMemoInvalidate(t *testing.T) {
	var c memoClock
	m := newTestMemo(&c)
	fill := func() {
		m.put("a", 1)
		m.put("b", 1)
		m.put("c", 2)
	}
	for _, tc := range []struct {
		topic string
		kept  []string
	}{
		{session.RecordTopic("s:a"), []string{"s:b", "s:c"}},
		{session.UserTopic(1), []string{"s:c"}},
		{session.UserTopic(3), []string{"s:a", "s:b", "s:c"}},
		{session.UserTopic(2, 3), []string{"s:a", "s:b"}},
		{session.UserTopic(1, 2), nil},
		{session.AllTopic, nil},
		{"z:unknown", nil},
	} {
		fill()
		m.Invalidate(tc.topic)
		var kept []string
		for _, k := range []string{"a", "b", "c"} {
			if m.has(k) {
				kept = append(kept, "s:"+k)
			}
		}
		if !slices.Equal(kept, tc.kept) {
			t.Errorf("after %q kept %q, want %q", tc.topic, kept, tc.kept)
		}
	}
}

func TestMemoSize(t *testing.T) {
	var c memoClock
	m := newTestMemo(&c)
	m.Size = 2
	for _, k := range []string{"a", "b", "c"} {
		m.put(k, 1)
	}
	if n, k, u := len(m.entries), len(m.byKey), len(m.byUser[1]); n != 2 || k != 2 || u != 2 {
		t.Fatalf("memo of size 2 holds %d copies, %d keys, %d for the user", n, k, u)
	}
	if !m.has("c") {
		t.Error("the newest copy was not kept")
	}
	m.put("c", 1) // replacing a copy evicts nothing
	if n := len(m.entries); n != 2 {
		t.Errorf("replacing a copy left %d", n)
	}
}

// TestMemoOneCopyPerSession: a session reached through another cookie
// value keeps one copy, and invalidating the session drops it.
func TestMemoOneCopyPerSession(t *testing.T) {
	var c memoClock
	m := newTestMemo(&c)
	m.put("a", 1)
	m.put("a-alias", 1)
	if m.has("a") || !m.has("a-alias") || len(m.entries) != 1 {
		t.Fatalf("two cookies of one session: a %v, alias %v, %d copies", m.has("a"), m.has("a-alias"), len(m.entries))
	}
	m.Invalidate(session.RecordTopic("s:a"))
	if m.has("a-alias") || len(m.byKey) != 0 || len(m.byUser) != 0 {
		t.Error("invalidating the session left its copy or an index entry")
	}
	// A cookie refilled for another user moves to that user's index.
	m.put("a", 1)
	m.put("a", 2)
	m.Invalidate(session.UserTopic(1))
	if !m.has("a") {
		t.Error("invalidating the former user dropped the new copy")
	}
	m.Invalidate(session.UserTopic(2))
	if m.has("a") || len(m.entries)+len(m.byKey)+len(m.byUser) != 0 {
		t.Error("invalidating the user left their copy or an index entry")
	}
	if m.has("") || m.has("unknown") {
		t.Error("a cookie never seen found a copy")
	}
}

// TestMemoEnrolledFactors: a copy made for a one_factor rule does not know
// the user's enrolled factors, so a two_factor rule reads them and keeps
// them; a one_factor rule uses either copy.
func TestMemoEnrolledFactors(t *testing.T) {
	var c memoClock
	m := newTestMemo(&c)
	m.put("a", 1, "staff")
	if _, _, ok := m.lookup(withCookie("a"), true); ok {
		t.Fatal("a one_factor copy answered a two_factor rule")
	}
	r := withCookie("a")
	_, gen, _ := m.lookup(r, true)
	m.fill(r, gen, &session.Session{}, store.User{ID: 1}, policy.Subject{Groups: []string{"staff"}, Enrolled: []string{"totp"}}, true)
	e, _, ok := m.lookup(withCookie("a"), true)
	if !ok || !slices.Equal(e.sub.Enrolled, []string{"totp"}) {
		t.Fatalf("a two_factor copy: %+v, %v", e, ok)
	}
	if !m.has("a") {
		t.Error("a two_factor copy did not answer a one_factor rule")
	}
}

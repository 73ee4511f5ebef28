package forwardauth

import (
	"slices"
	"testing"
	"time"

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

func (m *Memo) put(key string, userID int64, groups ...string) {
	_, gen, _ := m.lookup(key)
	m.fill(gen, key, &session.Session{}, store.User{ID: userID}, groups)
}

func (m *Memo) has(key string) bool {
	_, _, ok := m.lookup(key)
	return ok
}

func TestMemoKeepsWhatItRead(t *testing.T) {
	var c memoClock
	m := newTestMemo(&c)
	if m.has("s:a") {
		t.Fatal("an empty memo has a copy")
	}
	m.put("s:a", 1, "staff")
	e, _, ok := m.lookup("s:a")
	if !ok || e.user.ID != 1 || !slices.Equal(e.groups, []string{"staff"}) {
		t.Fatalf("lookup = %+v, %v", e, ok)
	}
	c.trusted = false
	if m.has("s:a") {
		t.Error("a copy was used without the bus's lease")
	}
	c.trusted = true
	c.now = c.now.Add(DefaultMemoTTL)
	if m.has("s:a") {
		t.Error("a copy outlived the memo's TTL")
	}
	c.stable = c.now.Add(time.Second)
	m.put("s:a", 1)
	c.now = c.now.Add(time.Second)
	if m.has("s:a") {
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
	_, gen, _ := m.lookup("s:a")
	m.Invalidate(session.RecordTopic("s:other"))
	m.fill(gen, "s:a", &session.Session{}, store.User{ID: 1}, nil)
	if m.has("s:a") {
		t.Error("a read older than an invalidation was kept")
	}
}

func TestMemoInvalidate(t *testing.T) {
	var c memoClock
	m := newTestMemo(&c)
	fill := func() {
		m.put("s:a", 1)
		m.put("s:b", 1)
		m.put("s:c", 2)
	}
	for _, tc := range []struct {
		topic string
		kept  []string
	}{
		{session.RecordTopic("s:a"), []string{"s:b", "s:c"}},
		{session.UserTopic(1), []string{"s:c"}},
		{session.UserTopic(3), []string{"s:a", "s:b", "s:c"}},
		{session.AllTopic, nil},
		{"z:unknown", nil},
	} {
		fill()
		m.Invalidate(tc.topic)
		var kept []string
		for _, k := range []string{"s:a", "s:b", "s:c"} {
			if m.has(k) {
				kept = append(kept, k)
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
	for _, k := range []string{"s:a", "s:b", "s:c"} {
		m.put(k, 1)
	}
	if n := len(m.entries); n != 2 {
		t.Fatalf("memo of size 2 holds %d copies", n)
	}
	if !m.has("s:c") {
		t.Error("the newest copy was not kept")
	}
	m.put("s:c", 1) // replacing a copy evicts nothing
	if n := len(m.entries); n != 2 {
		t.Errorf("replacing a copy left %d", n)
	}
}

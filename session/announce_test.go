package session_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/session/memory"
)

func TestParseTopic(t *testing.T) {
	many := make([]int64, 101)
	for _, tc := range []struct {
		topic string
		key   string
		users []int64
		all   bool
	}{
		{session.RecordTopic("s:ab12"), "s:ab12", nil, false},
		{session.UserTopic(42), "", []int64{42}, false},
		{session.UserTopic(1, 2, 3), "", []int64{1, 2, 3}, false},
		{session.UserTopic(), "", nil, true},        // no user: anything changed
		{session.UserTopic(many...), "", nil, true}, // too many to name
		{session.AllTopic, "", nil, true},
		{"k:", "", nil, true},          // no key: drop everything
		{"u:forty", "", nil, true},     // no user ID
		{"u:1,,2", "", nil, true},      // a malformed list
		{"x:something", "", nil, true}, // a topic of a later release
	} {
		key, users, all := session.ParseTopic(tc.topic)
		if key != tc.key || !slices.Equal(users, tc.users) || all != tc.all {
			t.Errorf("ParseTopic(%q) = %q, %v, %v; want %q, %v, %v", tc.topic, key, users, all, tc.key, tc.users, tc.all)
		}
	}
}

// TestAnnouncing: every write of a record or of a user's records is
// announced once it is done, failed ones too; reads, counters and claims
// are not.
func TestAnnouncing(t *testing.T) {
	var topics []string
	var storedWhenAnnounced []bool
	inner := memory.New()
	st := session.Announcing(inner, func(ctx context.Context, topic string) {
		topics = append(topics, topic)
		_, _, err := inner.Get(ctx, "s:a")
		storedWhenAnnounced = append(storedWhenAnnounced, err == nil)
	})
	ctx := context.Background()
	if err := st.Put(ctx, "s:a", 7, []byte("one"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if !storedWhenAnnounced[0] {
		t.Error("Put was announced before the record was written")
	}
	if err := st.Replace(ctx, "s:a", 7, []byte("two"), time.Minute, 99); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Replace at a wrong version = %v", err)
	}
	if _, _, err := st.Get(ctx, "s:a"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Incr(ctx, "n:a", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Claim(ctx, "c:a", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, "s:a"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DeleteUser(ctx, 7); err != nil {
		t.Fatal(err)
	}
	want := []string{"k:s:a", "k:s:a", "k:s:a", "u:7"}
	if !slices.Equal(topics, want) {
		t.Errorf("announced %q, want %q", topics, want)
	}
}

// TestKeyAndStable: Key names the record Load reads, and Stable is the
// earlier of the next write-back and the deadline.
func TestKeyAndStable(t *testing.T) {
	h := newHarness(t, func(o *session.Options) { o.IdleTimeout, o.AbsoluteTimeout = 3*time.Hour, 2*time.Hour })
	c := h.login(alice())
	key, cookie, ok := h.m.Key(request(c))
	if !ok || cookie != c.Value {
		t.Fatalf("Key = %q, %v from a valid cookie", cookie, ok)
	}
	if _, written := h.store.written[key]; !written {
		t.Errorf("Key %q is not the key the session was stored under", key)
	}
	if _, _, ok := h.m.Key(request()); ok {
		t.Error("Key found a session without a cookie")
	}
	forged := *c
	forged.Value = flip(c.Value)
	if _, _, ok := h.m.Key(request(&forged)); ok {
		t.Error("Key accepted a forged cookie")
	}
	// With a forged cookie first, Key names the valid one, as Load would;
	// FirstCookie names the first, unchecked.
	if _, cookie, _ := h.m.Key(request(&forged, c)); cookie != c.Value {
		t.Error("Key did not skip a forged cookie")
	}
	if first, ok := h.m.FirstCookie(request(&forged, c)); !ok || first != forged.Value {
		t.Errorf("FirstCookie = %q, %v", first, ok)
	}
	if _, ok := h.m.FirstCookie(request()); ok {
		t.Error("FirstCookie found a cookie in a request without one")
	}

	s := h.mustLoad(c)
	if got, want := h.m.Stable(s), testStart.Add(time.Minute); !got.Equal(want) {
		t.Errorf("Stable = %v, want the write-back a minute after LastSeen, %v", got, want)
	}
	// Near the absolute deadline, the deadline comes first.
	h.clock.Advance(2*time.Hour - 30*time.Second)
	s = h.mustLoad(c)
	if got, want := h.m.Stable(s), testStart.Add(2*time.Hour); !got.Equal(want) {
		t.Errorf("Stable = %v, want the absolute deadline %v", got, want)
	}
	// The cookie's timestamp is in whole seconds: it expires up to a
	// second before a session created within that second.
	s.CreatedAt = testStart.Add(700 * time.Millisecond)
	if got, want := h.m.Stable(s), testStart.Add(2*time.Hour); !got.Equal(want) {
		t.Errorf("Stable = %v, want %v, when the cookie expires", got, want)
	}
}

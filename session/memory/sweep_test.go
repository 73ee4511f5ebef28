package memory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/portcullis/portcullis/session/sessiontest"
)

// size reports how many entries s holds, expired or not.
func (s *Store) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.records) + len(s.users) + len(s.counters) + len(s.claims)
}

// TestSweepBoundsMemory writes many short-lived entries that are never read
// again and checks that a later write returns their memory.
func TestSweepBoundsMemory(t *testing.T) {
	clock := sessiontest.NewManualClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	s := New(WithNow(clock.Now))
	ctx := context.Background()
	for i := range 1000 {
		key := fmt.Sprint(i)
		must(t, s.Put(ctx, "s:"+key, int64(i), []byte("x"), time.Second))
		_, _, err := s.Incr(ctx, "n:"+key, time.Second)
		must(t, err)
		_, err = s.Claim(ctx, "c:"+key, time.Second)
		must(t, err)
	}
	if n := s.size(); n != 4000 {
		t.Fatalf("size before expiry = %d, want 4000", n)
	}
	clock.Advance(sweepInterval)
	must(t, s.Put(ctx, "s:live", 1, []byte("x"), time.Hour))
	if n := s.size(); n != 2 { // the live record and its user index
		t.Fatalf("size after sweep = %d, want 2", n)
	}
}

// TestSweepThrottled checks that writes between sweeps do not each scan the
// maps: an expired entry stays until the interval has passed.
func TestSweepThrottled(t *testing.T) {
	clock := sessiontest.NewManualClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	s := New(WithNow(clock.Now))
	ctx := context.Background()
	_, err := s.Claim(ctx, "c:a", time.Second)
	must(t, err)
	clock.Advance(2 * time.Second)
	_, err = s.Claim(ctx, "c:b", time.Second)
	must(t, err)
	if n := s.size(); n != 2 {
		t.Fatalf("size between sweeps = %d, want 2", n)
	}
	clock.Advance(sweepInterval)
	_, err = s.Claim(ctx, "c:c", time.Second)
	must(t, err)
	if n := s.size(); n != 1 {
		t.Fatalf("size after sweep = %d, want 1", n)
	}
}

// TestIndexFollowsKey checks that a key re-put under another user leaves the
// first user's index, so revoking that user does not end the other's session.
func TestIndexFollowsKey(t *testing.T) {
	s := New()
	ctx := context.Background()
	must(t, s.Put(ctx, "s:a", 1, []byte("x"), time.Hour))
	must(t, s.Put(ctx, "s:a", 2, []byte("y"), time.Hour))
	if n, err := s.DeleteUser(ctx, 1); err != nil || n != 0 {
		t.Fatalf("DeleteUser(1) = %d, %v; want 0", n, err)
	}
	if _, _, err := s.Get(ctx, "s:a"); err != nil {
		t.Fatalf("Get: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

package sessiontest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portcullis/portcullis/session"
)

func incr(t *testing.T, s session.Store, key string, window time.Duration) (int64, time.Duration) {
	t.Helper()
	n, left, err := s.Incr(ctx(t), key, window)
	if err != nil {
		t.Fatalf("Incr(%q): %v", key, err)
	}
	return n, left
}

func wantCount(t *testing.T, s session.Store, key string, want int64) time.Duration {
	t.Helper()
	n, left, err := s.Count(ctx(t), key)
	if err != nil {
		t.Fatalf("Count(%q): %v", key, err)
	}
	if n != want || (want == 0) != (left == 0) {
		t.Fatalf("Count(%q) = %d, %v; want %d (and no time left only when 0)", key, n, left, want)
	}
	return left
}

func claim(t *testing.T, s session.Store, key string, ttl time.Duration) bool {
	t.Helper()
	ok, err := s.Claim(ctx(t), key, ttl)
	if err != nil {
		t.Fatalf("Claim(%q): %v", key, err)
	}
	return ok
}

func testIncr(t *testing.T, s session.Store, _ Clock) {
	for want := int64(1); want <= 3; want++ {
		n, left := incr(t, s, "n:a", Long)
		if n != want {
			t.Fatalf("Incr #%d = %d", want, n)
		}
		within(t, "Incr", left, Long)
	}
	if n, _ := incr(t, s, "n:b", Long); n != 1 {
		t.Fatalf("Incr of another key = %d, want 1", n)
	}
	within(t, "Count", wantCount(t, s, "n:a", 3), Long)
}

// testIncrWindow checks that the window is fixed: it starts at the first
// increment, later ones do not extend it, and the count starts over after.
func testIncrWindow(t *testing.T, s session.Store, clock Clock) {
	incr(t, s, "n:a", Short)
	clock(Short / 2)
	n, left := incr(t, s, "n:a", Short)
	if n != 2 || left > Short/2+Short/4 || left <= 0 {
		t.Fatalf("Incr in mid-window = %d, %v left; want 2, at most %v", n, left, Short/2)
	}
	clock(Short/2 + 100*time.Millisecond)
	wantCount(t, s, "n:a", 0)
	n, left = incr(t, s, "n:a", Long)
	if n != 1 {
		t.Fatalf("Incr after the window = %d, want 1", n)
	}
	within(t, "new window", left, Long)
}

func testCountReset(t *testing.T, s session.Store, _ Clock) {
	wantCount(t, s, "n:missing", 0)
	incr(t, s, "n:a", Long)
	incr(t, s, "n:a", Long)
	if err := s.Reset(ctx(t), "n:a"); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	wantCount(t, s, "n:a", 0)
	if err := s.Reset(ctx(t), "n:a"); err != nil {
		t.Fatalf("Reset of a missing counter: %v", err)
	}
	if n, _ := incr(t, s, "n:a", Long); n != 1 {
		t.Fatalf("Incr after Reset = %d, want 1", n)
	}
}

func testClaim(t *testing.T, s session.Store, _ Clock) {
	if !claim(t, s, "c:a", Long) {
		t.Fatal("first Claim lost")
	}
	if claim(t, s, "c:a", Long) {
		t.Fatal("second Claim won")
	}
	if !claim(t, s, "c:b", Long) {
		t.Fatal("Claim of another key lost")
	}
	// Claims, counters and records are separate: the same key may be all three.
	if n, _ := incr(t, s, "c:a", Long); n != 1 {
		t.Fatalf("Incr on a claimed key = %d, want 1", n)
	}
	wantGone(t, s, "c:a")
}

func testClaimConcurrent(t *testing.T, s session.Store, _ Clock) {
	const claimers = 50
	var wins, fails atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range claimers {
		wg.Go(func() {
			<-start
			ok, err := s.Claim(ctx(t), "c:race", Long)
			if err != nil {
				fails.Add(1)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 || fails.Load() != 0 {
		t.Fatalf("%d of %d concurrent claims won (%d failed), want exactly 1", wins.Load(), claimers, fails.Load())
	}
}

func testClaimExpiry(t *testing.T, s session.Store, clock Clock) {
	if !claim(t, s, "c:a", Short) {
		t.Fatal("first Claim lost")
	}
	clock(Short + 100*time.Millisecond)
	if !claim(t, s, "c:a", Long) {
		t.Fatal("Claim after expiry lost")
	}
}

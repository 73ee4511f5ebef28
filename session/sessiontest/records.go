package sessiontest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portcullis/portcullis/session"
)

// allBytes is a record with every byte value, so no backend may assume text.
func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func mustPut(t *testing.T, s session.Store, key string, user int64, data []byte) {
	t.Helper()
	if err := s.Put(ctx(t), key, user, data, Long); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func wantRecord(t *testing.T, s session.Store, key string, want []byte) {
	t.Helper()
	got, _, err := s.Get(ctx(t), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %x, want %x", key, got, want)
	}
}

// version returns the version of the record at key.
func version(t *testing.T, s session.Store, key string) int64 {
	t.Helper()
	_, v, err := s.Get(ctx(t), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return v
}

func wantGone(t *testing.T, s session.Store, key string) {
	t.Helper()
	if got, _, err := s.Get(ctx(t), key); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Get(%q) = %x, %v; want ErrNotFound", key, got, err)
	}
}

func testPutGetDelete(t *testing.T, s session.Store, _ Clock) {
	wantGone(t, s, "s:missing")
	mustPut(t, s, "s:a", 1, allBytes())
	wantRecord(t, s, "s:a", allBytes())
	mustPut(t, s, "s:a", 1, []byte("second"))
	wantRecord(t, s, "s:a", []byte("second"))
	if err := s.Delete(ctx(t), "s:a"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantGone(t, s, "s:a")
	if err := s.Delete(ctx(t), "s:a"); err != nil {
		t.Fatalf("Delete of a missing key: %v, want nil", err)
	}
}

func testPutCopies(t *testing.T, s session.Store, _ Clock) {
	data := []byte("original")
	mustPut(t, s, "s:a", 1, data)
	copy(data, "mutated!")
	got, _, err := s.Get(ctx(t), "s:a")
	if err != nil {
		t.Fatal(err)
	}
	copy(got, "mutated!")
	wantRecord(t, s, "s:a", []byte("original"))
}

func testReplace(t *testing.T, s session.Store, _ Clock) {
	if err := s.Replace(ctx(t), "s:a", 1, []byte("x"), Long, 1); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Replace of a missing key: %v, want ErrNotFound", err)
	}
	wantGone(t, s, "s:a")
	mustPut(t, s, "s:a", 1, []byte("one"))
	if err := s.Replace(ctx(t), "s:a", 1, []byte("two"), Long, version(t, s, "s:a")); err != nil {
		t.Fatalf("Replace: %v", err)
	}
	wantRecord(t, s, "s:a", []byte("two"))
	if n, err := s.DeleteUser(ctx(t), 1); err != nil || n != 1 {
		t.Fatalf("DeleteUser after Replace = %d, %v; want 1 (Replace keeps the index)", n, err)
	}
	// A write-back racing revocation must not revive the record.
	if err := s.Replace(ctx(t), "s:a", 1, []byte("three"), Long, 2); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Replace after DeleteUser: %v, want ErrNotFound", err)
	}
	wantGone(t, s, "s:a")
}

// testVersions checks the version semantics: Put starts at 1 and bumps an
// existing record, Replace bumps, and a stale version gets ErrConflict and
// leaves the record as it was.
func testVersions(t *testing.T, s session.Store, _ Clock) {
	mustPut(t, s, "s:a", 1, []byte("one"))
	if v := version(t, s, "s:a"); v != 1 {
		t.Fatalf("version after Put = %d, want 1", v)
	}
	if err := s.Replace(ctx(t), "s:a", 1, []byte("two"), Long, 1); err != nil {
		t.Fatalf("Replace at version 1: %v", err)
	}
	if v := version(t, s, "s:a"); v != 2 {
		t.Fatalf("version after Replace = %d, want 2", v)
	}
	for _, stale := range []int64{1, 0, 3} {
		if err := s.Replace(ctx(t), "s:a", 1, []byte("lost"), Long, stale); !errors.Is(err, session.ErrConflict) {
			t.Fatalf("Replace at version %d (stored 2): %v, want ErrConflict", stale, err)
		}
	}
	wantRecord(t, s, "s:a", []byte("two"))
	if v := version(t, s, "s:a"); v != 2 {
		t.Fatalf("version after a conflict = %d, want 2", v)
	}
	mustPut(t, s, "s:a", 1, []byte("three"))
	if v := version(t, s, "s:a"); v <= 2 {
		t.Fatalf("version after Put over a live record = %d, want more than 2", v)
	}
	if err := s.Replace(ctx(t), "s:a", 1, []byte("lost"), Long, 2); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Replace at the version before a Put: %v, want ErrConflict", err)
	}
	wantRecord(t, s, "s:a", []byte("three"))
	if n, err := s.DeleteUser(ctx(t), 1); err != nil || n != 1 {
		t.Fatalf("DeleteUser = %d, %v; want 1 (a conflict keeps the index)", n, err)
	}
}

// testReplaceConcurrent checks that of many writers holding the same
// version exactly one wins, and its data is what is stored.
func testReplaceConcurrent(t *testing.T, s session.Store, _ Clock) {
	const writers = 50
	mustPut(t, s, "s:race", 1, []byte("start"))
	v := version(t, s, "s:race")
	var wins, conflicts, fails atomic.Int32
	var winner atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range writers {
		wg.Go(func() {
			<-start
			err := s.Replace(ctx(t), "s:race", 1, []byte(fmt.Sprint("writer ", i)), Long, v)
			switch {
			case err == nil:
				wins.Add(1)
				winner.Store(int32(i))
			case errors.Is(err, session.ErrConflict):
				conflicts.Add(1)
			default:
				fails.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != writers-1 || fails.Load() != 0 {
		t.Fatalf("%d of %d concurrent Replaces won, %d conflicted, %d failed; want exactly 1 winner",
			wins.Load(), writers, conflicts.Load(), fails.Load())
	}
	wantRecord(t, s, "s:race", []byte(fmt.Sprint("writer ", winner.Load())))
	if got := version(t, s, "s:race"); got != v+1 {
		t.Fatalf("version after the race = %d, want %d", got, v+1)
	}
}

func testExpiry(t *testing.T, s session.Store, clock Clock) {
	mustPut(t, s, "s:long", 1, []byte("long"))
	if err := s.Put(ctx(t), "s:short", 1, []byte("short"), Short); err != nil {
		t.Fatal(err)
	}
	wantRecord(t, s, "s:short", []byte("short"))
	clock(Short + 100*time.Millisecond)
	wantGone(t, s, "s:short")
	if err := s.Replace(ctx(t), "s:short", 1, []byte("x"), Long, 1); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Replace of an expired record: %v, want ErrNotFound", err)
	}
	wantRecord(t, s, "s:long", []byte("long"))
	if n, err := s.DeleteUser(ctx(t), 1); err != nil || n != 1 {
		t.Fatalf("DeleteUser = %d, %v; want 1 (expired records do not count)", n, err)
	}
}

func testDeleteUser(t *testing.T, s session.Store, _ Clock) {
	mustPut(t, s, "s:a1", 1, []byte("a1"))
	mustPut(t, s, "s:a2", 1, []byte("a2"))
	mustPut(t, s, "s:a3", 1, []byte("a3"))
	mustPut(t, s, "s:b1", 2, []byte("b1"))
	if err := s.Delete(ctx(t), "s:a3"); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteUser(ctx(t), 1)
	if err != nil || n != 2 {
		t.Fatalf("DeleteUser(1) = %d, %v; want 2", n, err)
	}
	wantGone(t, s, "s:a1")
	wantGone(t, s, "s:a2")
	wantRecord(t, s, "s:b1", []byte("b1"))
	for _, user := range []int64{1, 3, -1} {
		if n, err := s.DeleteUser(ctx(t), user); err != nil || n != 0 {
			t.Errorf("DeleteUser(%d) = %d, %v; want 0", user, n, err)
		}
	}
	mustPut(t, s, "s:a4", 1, []byte("a4"))
	if n, err := s.DeleteUser(ctx(t), 1); err != nil || n != 1 {
		t.Fatalf("DeleteUser(1) after a new login = %d, %v; want 1", n, err)
	}
	wantRecord(t, s, "s:b1", []byte("b1"))
}

func testNonPositiveTTL(t *testing.T, s session.Store, _ Clock) {
	for _, ttl := range []time.Duration{0, -time.Second} {
		if err := s.Put(ctx(t), "s:a", 1, []byte("x"), ttl); err == nil {
			t.Errorf("Put with ttl %v: no error", ttl)
		}
		if _, _, err := s.Incr(ctx(t), "n:a", ttl); err == nil {
			t.Errorf("Incr with window %v: no error", ttl)
		}
		if _, err := s.Claim(ctx(t), "c:a", ttl); err == nil {
			t.Errorf("Claim with ttl %v: no error", ttl)
		}
	}
	wantGone(t, s, "s:a")
}

func testPing(t *testing.T, s session.Store, _ Clock) {
	if err := s.Ping(ctx(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

package sessiontest

import (
	"bytes"
	"errors"
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
	got, err := s.Get(ctx(t), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %x, want %x", key, got, want)
	}
}

func wantGone(t *testing.T, s session.Store, key string) {
	t.Helper()
	if got, err := s.Get(ctx(t), key); !errors.Is(err, session.ErrNotFound) {
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
	got, err := s.Get(ctx(t), "s:a")
	if err != nil {
		t.Fatal(err)
	}
	copy(got, "mutated!")
	wantRecord(t, s, "s:a", []byte("original"))
}

func testReplace(t *testing.T, s session.Store, _ Clock) {
	if err := s.Replace(ctx(t), "s:a", 1, []byte("x"), Long); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Replace of a missing key: %v, want ErrNotFound", err)
	}
	wantGone(t, s, "s:a")
	mustPut(t, s, "s:a", 1, []byte("one"))
	if err := s.Replace(ctx(t), "s:a", 1, []byte("two"), Long); err != nil {
		t.Fatalf("Replace: %v", err)
	}
	wantRecord(t, s, "s:a", []byte("two"))
	if n, err := s.DeleteUser(ctx(t), 1); err != nil || n != 1 {
		t.Fatalf("DeleteUser after Replace = %d, %v; want 1 (Replace keeps the index)", n, err)
	}
	// A write-back racing revocation must not revive the record.
	if err := s.Replace(ctx(t), "s:a", 1, []byte("three"), Long); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Replace after DeleteUser: %v, want ErrNotFound", err)
	}
	wantGone(t, s, "s:a")
}

func testExpiry(t *testing.T, s session.Store, clock Clock) {
	mustPut(t, s, "s:long", 1, []byte("long"))
	if err := s.Put(ctx(t), "s:short", 1, []byte("short"), Short); err != nil {
		t.Fatal(err)
	}
	wantRecord(t, s, "s:short", []byte("short"))
	clock(Short + 100*time.Millisecond)
	wantGone(t, s, "s:short")
	if err := s.Replace(ctx(t), "s:short", 1, []byte("x"), Long); !errors.Is(err, session.ErrNotFound) {
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

package redis

import (
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// TestIndexPrunedOnWrite checks that a user's index drops entries whose
// records expired more than the grace period ago, on the next write, so a
// user who logs in every day does not grow a set without bound.
func TestIndexPrunedOnWrite(t *testing.T) {
	mr := miniredis.RunT(t)
	s := openStore(t, "redis://"+mr.Addr())
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	ctx := t.Context()
	for _, key := range []string{"s:a", "s:b"} {
		if err := s.Put(ctx, key, 7, []byte("x"), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(time.Hour + indexGrace + time.Second)
	mr.FastForward(time.Hour + indexGrace + time.Second)
	if err := s.Put(ctx, "s:c", 7, []byte("x"), 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	members, err := mr.ZMembers(s.userKey(7))
	if err != nil || len(members) != 1 || members[0] != "s:c" {
		t.Fatalf("index = %v, %v; want [s:c]", members, err)
	}
	if ttl := mr.TTL(s.userKey(7)); ttl < 2*time.Hour {
		t.Errorf("index TTL %v, want at least the record's 2h", ttl)
	}
}

// TestIndexKeepsRecentEntries checks that an entry whose record expired
// within the grace period is kept: another node's clock may be behind.
func TestIndexKeepsRecentEntries(t *testing.T) {
	mr := miniredis.RunT(t)
	s := openStore(t, "redis://"+mr.Addr())
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	ctx := t.Context()
	if err := s.Put(ctx, "s:a", 7, []byte("x"), time.Hour); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour + indexGrace/2)
	if err := s.Put(ctx, "s:b", 7, []byte("x"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if members, _ := mr.ZMembers(s.userKey(7)); len(members) != 2 {
		t.Fatalf("index = %v, want both entries", members)
	}
}

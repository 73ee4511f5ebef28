package redis

import (
	"context"
	"crypto/rand"
	"net/url"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/session/sessiontest"
)

func TestConformanceMiniredis(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) (session.Store, sessiontest.Clock) {
		mr := miniredis.RunT(t)
		return openStore(t, "redis://"+mr.Addr()), mr.FastForward
	})
}

func TestConformanceRedis(t *testing.T) {
	base := sessiontest.RedisURL(t)
	sessiontest.Run(t, func(t *testing.T) (session.Store, sessiontest.Clock) {
		return openStore(t, withPrefix(t, base, testPrefix())), sessiontest.Sleep
	})
}

// openStore opens a Store with New and closes it when t ends, after deleting
// every key under its prefix so a shared Redis is left as it was.
func openStore(t testing.TB, rawURL string) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := New(ctx, rawURL)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		cleanPrefix(t, s)
		s.Close()
	})
	return s
}

func cleanPrefix(t testing.TB, s *Store) {
	ctx := context.Background()
	iter := s.c.Scan(ctx, 0, s.prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		s.c.Del(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Logf("cleaning up %s*: %v", s.prefix, err)
	}
}

// testPrefix is a key prefix no other test run shares.
func testPrefix() string {
	return "portcullis-test:" + rand.Text() + ":"
}

func withPrefix(t testing.TB, rawURL, prefix string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("%s: %v", sessiontest.EnvRedisURL, err)
	}
	q := u.Query()
	q.Set("prefix", prefix)
	u.RawQuery = q.Encode()
	return u.String()
}

package redis

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/portcullis/portcullis/session"
)

// failFast is how long a call may take to report a dead Redis.
const failFast = 2500 * time.Millisecond

// everyMethod calls each Store method once and returns their errors.
func everyMethod(ctx context.Context, s *Store) map[string]error {
	errs := map[string]error{}
	errs["Put"] = s.Put(ctx, "s:b", 1, []byte("x"), time.Minute)
	errs["Replace"] = s.Replace(ctx, "s:a", 1, []byte("x"), time.Minute, 1)
	_, _, errs["Get"] = s.Get(ctx, "s:a")
	errs["Delete"] = s.Delete(ctx, "s:a")
	_, errs["DeleteUser"] = s.DeleteUser(ctx, 1)
	_, _, errs["Incr"] = s.Incr(ctx, "n:a", time.Minute)
	_, _, errs["Count"] = s.Count(ctx, "n:a")
	errs["Reset"] = s.Reset(ctx, "n:a")
	_, errs["Claim"] = s.Claim(ctx, "c:a", time.Minute)
	errs["Ping"] = s.Ping(ctx)
	return errs
}

func wantUnavailable(t *testing.T, s *Store) {
	t.Helper()
	start := time.Now()
	for name, err := range everyMethod(t.Context(), s) {
		if !errors.Is(err, session.ErrUnavailable) {
			t.Errorf("%s: %v, want ErrUnavailable", name, err)
		}
	}
	if d := time.Since(start); d > failFast {
		t.Errorf("failing took %v, want under %v", d, failFast)
	}
}

// TestRedisGoesAwayAndComesBack stops Redis under a Store, and starts it
// again on the same address: the Store fails fast meanwhile and works again
// after, without being reopened.
func TestRedisGoesAwayAndComesBack(t *testing.T) {
	mr := miniredis.RunT(t)
	s := openStore(t, "redis://"+mr.Addr())
	if err := s.Put(t.Context(), "s:a", 1, []byte("kept"), time.Hour); err != nil {
		t.Fatal(err)
	}
	mr.Close()
	wantUnavailable(t, s)
	if err := mr.Restart(); err != nil {
		t.Fatalf("restart miniredis: %v", err)
	}
	waitPing(t, s, 5*time.Second)
	if got, _, err := s.Get(t.Context(), "s:a"); err != nil || string(got) != "kept" {
		t.Fatalf("Get after restart = %q, %v", got, err)
	}
}

// TestRedisErrorReply checks that an error reply (a Redis loading its data,
// a replica that became read-only) is ErrUnavailable too.
func TestRedisErrorReply(t *testing.T) {
	mr := miniredis.RunT(t)
	s := openStore(t, "redis://"+mr.Addr())
	mr.SetError("LOADING Redis is loading the dataset in memory")
	wantUnavailable(t, s)
	mr.SetError("")
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping after the error cleared: %v", err)
	}
}

// TestNewDeadRedis checks that New reports a Redis nobody listens for,
// quickly and as ErrUnavailable.
func TestNewDeadRedis(t *testing.T) {
	start := time.Now()
	_, err := New(t.Context(), "redis://"+deadAddr(t)+"/0")
	if !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("New: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > failFast {
		t.Errorf("New took %v, want under %v", d, failFast)
	}
}

// TestSilentRedis checks the read timeout: a server that accepts the
// connection and never answers must not hang the caller.
func TestSilentRedis(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go acceptSilently(l)
	start := time.Now()
	_, err = New(t.Context(), "redis://"+l.Addr().String()+"/0")
	if !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("New: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 2*failFast {
		t.Errorf("New took %v, want under %v", d, 2*failFast)
	}
}

// acceptSilently holds every connection open without a reply until l closes.
func acceptSilently(l net.Listener) {
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		conns = append(conns, c)
	}
}

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func waitPing(t *testing.T, s *Store, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := s.Ping(t.Context())
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Redis did not come back within %v: %v", limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

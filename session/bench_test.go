package session_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/alicebob/miniredis/v2"

	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/session/memory"
	redisstore "github.com/portcullis/portcullis/session/redis"
	"github.com/portcullis/portcullis/session/sessiontest"
)

// BenchmarkLoad measures a session lookup: a request with a valid cookie
// through Manager.Load, on each backend. The clock is real, so no write-back
// happens within a run: this is the read path every request takes.
func BenchmarkLoad(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		benchLoad(b, memory.New())
	})
	b.Run("miniredis", func(b *testing.B) {
		mr := miniredis.RunT(b)
		benchLoad(b, openRedis(b, "redis://"+mr.Addr()))
	})
	b.Run("redis", func(b *testing.B) {
		benchLoad(b, openRedis(b, sessiontest.UniqueRedisURL(b)))
	})
}

func benchLoad(b *testing.B, store session.Store) {
	m, err := session.NewManager(session.Options{Store: store, HashKey: testKey})
	if err != nil {
		b.Fatal(err)
	}
	w := httptest.NewRecorder()
	if err := m.Login(context.Background(), w, request(), alice()); err != nil {
		b.Fatal(err)
	}
	// Revoking leaves no key behind: record and index entry both go.
	b.Cleanup(func() { m.RevokeUser(context.Background(), alice().UserID) })
	r := request(w.Result().Cookies()[0])
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Load(r); err != nil {
			b.Fatal(err)
		}
	}
}

func openRedis(b *testing.B, rawURL string) session.Store {
	s, err := redisstore.New(context.Background(), rawURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

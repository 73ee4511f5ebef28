package totp

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/session/memory"
	redisstore "github.com/portcullis/portcullis/session/redis"
	"github.com/portcullis/portcullis/session/sessiontest"
)

// BenchmarkVerify measures the verification of a valid code as the verify
// page does it once the enrolments are loaded: open the sealed secret,
// compute and compare the codes of the window, claim the step in the session
// backend. Each iteration claims for another user, so every claim is won.
func BenchmarkVerify(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		benchVerify(b, memory.New())
	})
	b.Run("miniredis", func(b *testing.B) {
		benchVerify(b, openRedis(b, "redis://"+miniredis.RunT(b).Addr()))
	})
	b.Run("redis", func(b *testing.B) {
		benchVerify(b, openRedis(b, sessiontest.UniqueRedisURL(b)))
	})
}

func benchVerify(b *testing.B, replay session.Store) {
	h := newHarnessOn(b, replay)
	u := h.signIn("ada@example.com")
	k := u.enrol(h.nodes[0], "Phone")
	f := h.nodes[0].factor
	es := u.Enrolments()
	// The step after the enrolment's, whose code matches second in the
	// window (current step first): a realistic, not the cheapest, case.
	h.Advance(30 * time.Second)
	code := rfcCode(k.secret, h.Now().Add(-30*time.Second), 6)
	ctx := context.Background()
	var user int64 = 1 << 40
	b.ReportAllocs()
	for b.Loop() {
		user++
		if _, err := f.check(ctx, user, f.openKeys(ctx, es), code); err != nil {
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

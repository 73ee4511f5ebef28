package testenv

import (
	"crypto/rand"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/store/storetest"
)

// PostgresSchema creates a fresh schema in the database named by
// GATEWAY_TEST_POSTGRES_URL, drops it when the test ends, and returns a URL
// whose connections use it.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	return storetest.PostgresSchema(t, RequireService(t, "GATEWAY_TEST_POSTGRES_URL"))
}

// RedisURL returns GATEWAY_TEST_REDIS_URL; callers isolate their keys with a
// prefix of their own.
func RedisURL(t testing.TB) string {
	t.Helper()
	return RequireService(t, "GATEWAY_TEST_REDIS_URL")
}

// testLogger sends the node's log to the test log at the configured level.
func testLogger(t testing.TB, cfg config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var _ io.Writer = testWriter{}

// withPrefix sets the key prefix option of a Redis URL.
func withPrefix(t testing.TB, redisURL, prefix string) string {
	u, err := url.Parse(redisURL)
	if err != nil {
		t.Fatalf("testenv: bad Redis URL: %v", err)
	}
	q := u.Query()
	q.Set("prefix", prefix)
	u.RawQuery = q.Encode()
	return u.String()
}

// RedisSessionsIfSet is RedisSessions when GATEWAY_TEST_REDIS_URL is set
// (always in CI), and changes nothing otherwise: for tests that hold with
// either backend and should not skip without Redis.
func RedisSessionsIfSet(t testing.TB) Option {
	t.Helper()
	if os.Getenv("GATEWAY_TEST_REDIS_URL") == "" {
		return func(*config.Config) {}
	}
	return RedisSessions(t)
}

// RedisSessions keeps the node's sessions in the test Redis
// (GATEWAY_TEST_REDIS_URL), under a key prefix of the test's own: the
// forward-auth memo and its bus run as in production.
func RedisSessions(t testing.TB) Option {
	t.Helper()
	u := withPrefix(t, RedisURL(t), "portcullis-test:"+strings.ToLower(rand.Text()[:10])+":")
	return func(c *config.Config) { c.Sessions.Store, c.Sessions.RedisURL = "redis", u }
}

package sessiontest

import (
	"crypto/rand"
	"net/url"
	"os"
	"testing"
)

// Environment variables that point tests at real services.
const (
	EnvRedisURL        = "GATEWAY_TEST_REDIS_URL"
	EnvRequireServices = "GATEWAY_TEST_REQUIRE_SERVICES"
)

// RedisURL returns the URL of a real Redis for tests, from
// GATEWAY_TEST_REDIS_URL. When it is unset the test is skipped, or fails
// when GATEWAY_TEST_REQUIRE_SERVICES=1 (CI), where a skip would hide a gap.
func RedisURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvRedisURL)
	if u != "" {
		return u
	}
	if os.Getenv(EnvRequireServices) == "1" {
		tb.Fatalf("%s is not set and %s=1", EnvRedisURL, EnvRequireServices)
	}
	tb.Skipf("%s is not set: skipping the real-Redis test", EnvRedisURL)
	return ""
}

// UniqueRedisURL is RedisURL with a key prefix of the test's own, so runs
// on a shared Redis do not collide.
func UniqueRedisURL(tb testing.TB) string {
	tb.Helper()
	raw := RedisURL(tb)
	u, err := url.Parse(raw)
	if err != nil {
		tb.Fatalf("%s: %v", EnvRedisURL, err)
	}
	q := u.Query()
	q.Set("prefix", "portcullis-test:"+rand.Text()+":")
	u.RawQuery = q.Encode()
	return u.String()
}

package sessiontest

import (
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

package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// incrScript increments a counter and starts its window on the first
// increment, atomically, so a crash between INCR and PEXPIRE can never leave
// a counter that lives forever. It returns the value and the ms left.
var incrScript = goredis.NewScript(`
local n = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
	redis.call('PEXPIRE', KEYS[1], ARGV[1])
	left = tonumber(ARGV[1])
end
return {n, left}
`)

// countScript reads a counter and its time left in one step.
var countScript = goredis.NewScript(`
local n = redis.call('GET', KEYS[1])
if not n then
	return {0, 0}
end
return {tonumber(n), redis.call('PTTL', KEYS[1])}
`)

// Incr adds one to the counter key within a fixed window.
func (s *Store) Incr(ctx context.Context, key string, window time.Duration) (int64, time.Duration, error) {
	if err := checkTTL(window); err != nil {
		return 0, 0, err
	}
	ms := max(window.Milliseconds(), 1)
	return s.runCounter(ctx, incrScript, "incr", key, ms)
}

// Count returns the counter's value and time left, or 0 and 0.
func (s *Store) Count(ctx context.Context, key string) (int64, time.Duration, error) {
	return s.runCounter(ctx, countScript, "count", key)
}

// Reset removes the counter key.
func (s *Store) Reset(ctx context.Context, key string) error {
	if err := s.c.Del(ctx, s.counterKey(key)).Err(); err != nil {
		return unavailable("reset", err)
	}
	return nil
}

// Claim records key for ttl with SET NX PX: Redis runs commands one at a
// time, so of many concurrent claimers exactly one sees OK.
func (s *Store) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := checkTTL(ttl); err != nil {
		return false, err
	}
	ok, err := s.c.SetNX(ctx, s.claimKey(key), 1, ttl).Result()
	if err != nil {
		return false, unavailable("claim", err)
	}
	return ok, nil
}

// runCounter runs a counter script and reads its {value, ms left} reply.
func (s *Store) runCounter(ctx context.Context, script *goredis.Script, op, key string, args ...any) (int64, time.Duration, error) {
	v, err := script.Run(ctx, s.c, []string{s.counterKey(key)}, args...).Int64Slice()
	if err != nil {
		return 0, 0, unavailable(op, err)
	}
	if len(v) != 2 {
		return 0, 0, unavailable(op, fmt.Errorf("unexpected reply %v", v))
	}
	left := time.Duration(max(v[1], 0)) * time.Millisecond
	if v[0] == 0 {
		left = 0
	}
	return v[0], left, nil
}

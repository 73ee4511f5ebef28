package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/portcullis/portcullis/session"
)

// indexGrace is how long an index entry outlives its record's expiry before
// it may be pruned, and how much longer than its longest record the index
// lives. It covers clock skew between the nodes that compute the scores.
const indexGrace = 5 * time.Minute

// indexScript adds a record key to a user's index. KEYS[1] is the index;
// ARGV is the member, its score (the record's expiry, Unix ms), the TTL the
// index needs (ms) and the score below which entries are stale. One key, so
// it is atomic and Cluster-safe; the TTL only ever grows so the index
// outlives its longest record.
var indexScript = goredis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[4])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then
	redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 0
`)

// putScript writes a record: KEYS[1] is the record hash, ARGV its data and
// TTL (ms). The version field starts at 1 and goes up by one on every write,
// so a writer that read the record before this Put gets a conflict. It
// returns the new version.
var putScript = goredis.NewScript(`
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('HSET', KEYS[1], 'd', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return v
`)

// replaceScript writes a record only if it exists (so a write-back cannot
// revive a record a logout or revocation has just deleted) and its version
// is still ARGV[3]: it returns -1 if there is no record, 0 on a conflict
// (nothing written) and otherwise the new version. Redis runs a script
// whole, so of concurrent writers holding one version exactly one wins.
var replaceScript = goredis.NewScript(`
local v = redis.call('HGET', KEYS[1], 'v')
if not v then
	return -1
end
if v ~= ARGV[3] then
	return 0
end
redis.call('HSET', KEYS[1], 'd', ARGV[1])
local nv = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return nv
`)

// Put writes a record and indexes it under userID, index first.
func (s *Store) Put(ctx context.Context, key string, userID int64, data []byte, ttl time.Duration) error {
	if err := checkTTL(ttl); err != nil {
		return err
	}
	if err := s.index(ctx, key, userID, ttl); err != nil {
		return err
	}
	ms := max(ttl.Milliseconds(), 1)
	if err := putScript.Run(ctx, s.c, []string{s.recordKey(key)}, data, ms).Err(); err != nil {
		return unavailable("put", err)
	}
	return nil
}

// Replace overwrites a record that exists and is still at version, bumping
// the version, index first.
func (s *Store) Replace(ctx context.Context, key string, userID int64, data []byte, ttl time.Duration, version int64) error {
	if err := checkTTL(ttl); err != nil {
		return err
	}
	if err := s.index(ctx, key, userID, ttl); err != nil {
		return err
	}
	ms := max(ttl.Milliseconds(), 1)
	n, err := replaceScript.Run(ctx, s.c, []string{s.recordKey(key)}, data, ms, strconv.FormatInt(version, 10)).Int64()
	switch {
	case err != nil:
		return unavailable("replace", err)
	case n < 0:
		return session.ErrNotFound
	case n == 0:
		return session.ErrConflict
	}
	return nil
}

// Get returns the record and its version, or session.ErrNotFound. One HMGET
// reads both at once.
func (s *Store) Get(ctx context.Context, key string) ([]byte, int64, error) {
	vals, err := s.c.HMGet(ctx, s.recordKey(key), "d", "v").Result()
	if err != nil {
		return nil, 0, unavailable("get", err)
	}
	if len(vals) != 2 || vals[0] == nil || vals[1] == nil {
		return nil, 0, session.ErrNotFound
	}
	data, ok1 := vals[0].(string)
	vs, ok2 := vals[1].(string)
	version, err := strconv.ParseInt(vs, 10, 64)
	if !ok1 || !ok2 || err != nil {
		return nil, 0, unavailable("get", fmt.Errorf("malformed record %q", s.recordKey(key)))
	}
	return []byte(data), version, nil
}

// Delete removes the record. Its index entry, which the Store cannot find
// without the user ID, no longer counts and is pruned later.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.c.Del(ctx, s.recordKey(key)).Err(); err != nil {
		return unavailable("delete", err)
	}
	return nil
}

// DeleteUser deletes every record in the user's index and returns how many
// existed. It removes only the entries it read, so a login that races it
// keeps its entry (and remains revocable).
func (s *Store) DeleteUser(ctx context.Context, userID int64) (int, error) {
	idx := s.userKey(userID)
	keys, err := s.c.ZRange(ctx, idx, 0, -1).Result()
	if err != nil {
		return 0, unavailable("delete user", err)
	}
	if len(keys) == 0 {
		return 0, nil
	}
	n, err := s.deleteRecords(ctx, keys)
	if err != nil {
		return 0, err
	}
	members := make([]any, len(keys))
	for i, k := range keys {
		members[i] = k
	}
	if err := s.c.ZRem(ctx, idx, members...).Err(); err != nil {
		return 0, unavailable("delete user", err)
	}
	return n, nil
}

// deleteRecords deletes records one DEL each, pipelined: the keys lie in
// different Cluster slots, so one multi-key DEL could not.
func (s *Store) deleteRecords(ctx context.Context, keys []string) (int, error) {
	dels := make([]*goredis.IntCmd, len(keys))
	_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, k := range keys {
			dels[i] = p.Del(ctx, s.recordKey(k))
		}
		return nil
	})
	if err != nil {
		return 0, unavailable("delete user", err)
	}
	n := 0
	for _, d := range dels {
		n += int(d.Val())
	}
	return n, nil
}

// index adds key to userID's index, scored by the record's expiry.
func (s *Store) index(ctx context.Context, key string, userID int64, ttl time.Duration) error {
	now := s.now()
	args := []any{
		key,
		now.Add(ttl).UnixMilli(),
		(ttl + indexGrace).Milliseconds(),
		now.Add(-indexGrace).UnixMilli(),
	}
	if err := indexScript.Run(ctx, s.c, []string{s.userKey(userID)}, args...).Err(); err != nil {
		return unavailable("index", err)
	}
	return nil
}

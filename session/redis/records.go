package redis

import (
	"context"
	"errors"
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

// Put writes a record and indexes it under userID, index first.
func (s *Store) Put(ctx context.Context, key string, userID int64, data []byte, ttl time.Duration) error {
	if err := checkTTL(ttl); err != nil {
		return err
	}
	if err := s.index(ctx, key, userID, ttl); err != nil {
		return err
	}
	if err := s.c.Set(ctx, s.recordKey(key), data, ttl).Err(); err != nil {
		return unavailable("put", err)
	}
	return nil
}

// Replace overwrites a record only if it exists (SET XX), so a write-back
// cannot revive a record a logout or revocation has just deleted.
func (s *Store) Replace(ctx context.Context, key string, userID int64, data []byte, ttl time.Duration) error {
	if err := checkTTL(ttl); err != nil {
		return err
	}
	if err := s.index(ctx, key, userID, ttl); err != nil {
		return err
	}
	ok, err := s.c.SetXX(ctx, s.recordKey(key), data, ttl).Result()
	if err != nil {
		return unavailable("replace", err)
	}
	if !ok {
		return session.ErrNotFound
	}
	return nil
}

// Get returns the record, or session.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	data, err := s.c.Get(ctx, s.recordKey(key)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, session.ErrNotFound
	}
	if err != nil {
		return nil, unavailable("get", err)
	}
	return data, nil
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

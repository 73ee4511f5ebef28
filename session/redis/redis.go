// Package redis is the session backend for several nodes: records, the
// per-user index, counters and claims in Redis, so that a session, a
// revocation, a rate limit or a replay cache holds on every node. It works
// with a single Redis, with Sentinel and with Cluster, through go-redis's
// UniversalClient.
//
// Keys, under a prefix (default "portcullis:"):
//
//	rec2:KEY     a record: a hash of its data (d) and version (v), with PX
//	user:ID      a user's index: a sorted set of record keys scored by expiry
//	cnt:KEY      a counter (INCR; the window set on the first increment)
//	claim:KEY    a claim (SET NX PX)
//	bus, bus:ack:ID, nodes
//	             the session bus (Bus, bus.go): writes announced to the
//	             nodes that keep copies in memory, and their registry
//
// No command touches keys of two hash slots, so Cluster needs no hash tags:
// the scripts work on one key each and multi-key work is pipelined.
//
// A record's version sits beside its encrypted data in the same hash, so
// the version check of Replace and the write are one script on one key. The
// key is rec2: rather than rec:, where earlier releases kept the bare data
// as a string: a record left from before an upgrade is simply not found (its
// user signs in again) and expires on its own.
//
// The index is written before the record, so a record is never live without
// an index entry that revocation can find; an entry whose record is gone is
// harmless and is pruned once its score (the record's expiry) is a grace
// period in the past. The grace period absorbs clock skew between nodes,
// which compute the scores.
//
// Every failure other than a missing key wraps session.ErrUnavailable. The
// client fails fast (about a second) when Redis is down and redials by itself
// when it returns.
//
// Only cmd/gateway should import it; other packages use session.Store.
package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/portcullis/portcullis/session"
)

// Store is a session.Store on Redis.
type Store struct {
	c      goredis.UniversalClient
	prefix string
	owned  bool             // Close closes c: New made it
	now    func() time.Time // computes index scores
}

// New connects to the Redis rawURL names and checks that it answers. The
// forms are:
//
//	redis://[[user]:password@]host[:port][/db][?options]
//	rediss://...                              the same over TLS
//	unix://[[user]:password@]/path/to/redis.sock[?db=N&options]
//	redis-sentinel://[[user]:password@]host[:port][,host[:port]...][/db]?master=NAME[&sentinel_username=U][&sentinel_password=P][&options]
//	rediss-sentinel://...                     the same over TLS
//	redis-cluster://[[user]:password@]host[:port][,host[:port]...][?options]
//	rediss-cluster://...                      the same over TLS
//
// The user info authenticates to Redis itself (the master and replicas
// behind Sentinel, every node of a Cluster); sentinel_username and
// sentinel_password authenticate to the sentinels. Ports default to 6379,
// and to 26379 for sentinels. A cluster has no database number. options are
// go-redis's URL parameters (dial_timeout, read_timeout, pool_size, ...)
// plus prefix, the key namespace (default DefaultPrefix). Timeouts left
// unset are 1s, not go-redis's 5s, so that a dead Redis fails requests fast.
// Over TLS each server's certificate is checked against the host it is
// dialled at (skip_verify=true turns the check off, for tests only).
func New(ctx context.Context, rawURL string) (*Store, error) {
	cfg, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	c := cfg.client()
	s := NewFromClient(c, cfg.prefix)
	s.owned = true
	if err := s.Ping(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

// NewFromClient returns a Store on a client the caller made and will close.
// An empty prefix means DefaultPrefix.
func NewFromClient(c goredis.UniversalClient, prefix string) *Store {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Store{c: c, prefix: prefix, now: time.Now}
}

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.c.Ping(ctx).Err(); err != nil {
		return unavailable("ping", err)
	}
	return nil
}

// Close closes the client if New opened it.
func (s *Store) Close() error {
	if !s.owned {
		return nil
	}
	return s.c.Close()
}

func (s *Store) recordKey(key string) string  { return s.prefix + "rec2:" + key }
func (s *Store) counterKey(key string) string { return s.prefix + "cnt:" + key }
func (s *Store) claimKey(key string) string   { return s.prefix + "claim:" + key }
func (s *Store) userKey(userID int64) string {
	return s.prefix + "user:" + strconv.FormatInt(userID, 10)
}

// unavailable wraps a failure of Redis, keeping the cause for the log.
func unavailable(op string, err error) error {
	return fmt.Errorf("%w: redis %s: %w", session.ErrUnavailable, op, err)
}

func checkTTL(ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("session/redis: ttl %v is not positive", ttl)
	}
	return nil
}

var _ session.Store = (*Store)(nil)

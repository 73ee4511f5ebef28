package memory

import (
	"context"
	"time"
)

// Incr adds one to the counter key. A counter that does not exist (or has
// expired) starts at one with a fixed window: later increments do not extend
// it.
func (s *Store) Incr(_ context.Context, key string, window time.Duration) (int64, time.Duration, error) {
	if err := checkTTL(window); err != nil {
		return 0, 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweep(now)
	c, ok := s.counter(key, now)
	if !ok {
		c = counter{expires: now.Add(window)}
	}
	c.n++
	s.counters[key] = c
	return c.n, c.expires.Sub(now), nil
}

// Count returns the counter's value and the time left in its window, or 0
// and 0 if there is no live counter.
func (s *Store) Count(_ context.Context, key string) (int64, time.Duration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	c, ok := s.counter(key, now)
	if !ok {
		return 0, 0, nil
	}
	return c.n, c.expires.Sub(now), nil
}

// Reset removes the counter key.
func (s *Store) Reset(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.counters, key)
	return nil
}

// Claim records key for ttl unless a live claim exists, and reports whether
// this call made it. The mutex makes the check and the write one step, so
// exactly one of many concurrent claimers wins.
func (s *Store) Claim(_ context.Context, key string, ttl time.Duration) (bool, error) {
	if err := checkTTL(ttl); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweep(now)
	if expires, ok := s.claims[key]; ok && now.Before(expires) {
		return false, nil
	}
	s.claims[key] = now.Add(ttl)
	return true, nil
}

// counter returns the live counter at key, dropping it if it has expired.
// The caller holds s.mu.
func (s *Store) counter(key string, now time.Time) (counter, bool) {
	c, ok := s.counters[key]
	if ok && !now.Before(c.expires) {
		delete(s.counters, key)
		return counter{}, false
	}
	return c, ok
}

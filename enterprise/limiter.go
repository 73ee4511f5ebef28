package enterprise

import (
	"sync"
	"time"
)

// limiter is a token bucket per key (a client IP): rate tokens a second,
// a burst of twice that. It is per node: a client spread over n nodes gets
// n times the rate, which is what throttling against runaway scripts
// needs.
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func (l *limiter) allow(key string, rate float64, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = make(map[string]*bucket)
	}
	burst := 2 * rate
	l.sweep(now, burst, rate)
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = min(burst, b.tokens+now.Sub(b.at).Seconds()*rate)
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweep forgets, once a minute, the buckets that have refilled: they are
// the same as no bucket.
func (l *limiter) sweep(now time.Time, burst, rate float64) {
	if now.Sub(l.swept) < time.Minute {
		return
	}
	l.swept = now
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*rate >= burst {
			delete(l.buckets, k)
		}
	}
}

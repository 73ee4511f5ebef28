package server

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/portcullis/portcullis/forwardauth"
	"github.com/portcullis/portcullis/session"
)

// newRegistry returns a registry per node (not the global one), so that two
// nodes in one test process do not collide, with the Go and process
// collectors.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// observeMemo exports forward auth's memo: its decisions answered from
// memory and from the backends, and whether the node holds the bus's lease.
func observeMemo(reg prometheus.Registerer, memo *forwardauth.Memo, trusted func() bool) {
	for _, result := range []string{"hit", "miss"} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "portcullis_forward_auth_memo_total",
			Help:        "Forward-auth decisions answered from the node's memo (hit) or from the backends (miss).",
			ConstLabels: prometheus.Labels{"result": result},
		}, func() float64 {
			hits, misses := memo.Stats()
			if result == "hit" {
				return float64(hits)
			}
			return float64(misses)
		}))
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "portcullis_session_bus_trusted",
		Help: "1 while the node holds the session bus's lease and may answer from its memo.",
	}, func() float64 {
		if trusted() {
			return 1
		}
		return 0
	}))
}

// instrumented is a session.Store that observes the latency of each call.
type instrumented struct {
	session.Store
	hist *prometheus.HistogramVec
}

func instrument(st session.Store, reg prometheus.Registerer) session.Store {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "portcullis_session_store_duration_seconds",
		Help:    "Latency of session backend calls by operation and result.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
	}, []string{"op", "result"})
	reg.MustRegister(h)
	return &instrumented{Store: st, hist: h}
}

func (i *instrumented) observe(op string, start time.Time, err error) {
	result := "ok"
	switch {
	case errors.Is(err, session.ErrConflict):
		result = "conflict" // another write came first: a retry, not a fault
	case err != nil && !errors.Is(err, session.ErrNotFound):
		result = "error"
	}
	i.hist.WithLabelValues(op, result).Observe(time.Since(start).Seconds())
}

func (i *instrumented) Put(ctx context.Context, key string, userID int64, data []byte, ttl time.Duration) (err error) {
	defer func(start time.Time) { i.observe("put", start, err) }(time.Now())
	return i.Store.Put(ctx, key, userID, data, ttl)
}

func (i *instrumented) Replace(ctx context.Context, key string, userID int64, data []byte, ttl time.Duration, version int64) (err error) {
	defer func(start time.Time) { i.observe("replace", start, err) }(time.Now())
	return i.Store.Replace(ctx, key, userID, data, ttl, version)
}

func (i *instrumented) Get(ctx context.Context, key string) (b []byte, version int64, err error) {
	defer func(start time.Time) { i.observe("get", start, err) }(time.Now())
	return i.Store.Get(ctx, key)
}

func (i *instrumented) Delete(ctx context.Context, key string) (err error) {
	defer func(start time.Time) { i.observe("delete", start, err) }(time.Now())
	return i.Store.Delete(ctx, key)
}

func (i *instrumented) DeleteUser(ctx context.Context, userID int64) (n int, err error) {
	defer func(start time.Time) { i.observe("delete_user", start, err) }(time.Now())
	return i.Store.DeleteUser(ctx, userID)
}

func (i *instrumented) Incr(ctx context.Context, key string, window time.Duration) (n int64, ttl time.Duration, err error) {
	defer func(start time.Time) { i.observe("incr", start, err) }(time.Now())
	return i.Store.Incr(ctx, key, window)
}

func (i *instrumented) Count(ctx context.Context, key string) (n int64, ttl time.Duration, err error) {
	defer func(start time.Time) { i.observe("count", start, err) }(time.Now())
	return i.Store.Count(ctx, key)
}

func (i *instrumented) Reset(ctx context.Context, key string) (err error) {
	defer func(start time.Time) { i.observe("reset", start, err) }(time.Now())
	return i.Store.Reset(ctx, key)
}

func (i *instrumented) Claim(ctx context.Context, key string, ttl time.Duration) (ok bool, err error) {
	defer func(start time.Time) { i.observe("claim", start, err) }(time.Now())
	return i.Store.Claim(ctx, key, ttl)
}

// loginCounter counts login attempts by outcome.
func loginCounter(reg prometheus.Registerer) func(outcome string) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portcullis_logins_total",
		Help: "Password login attempts by outcome (success, failure, throttled).",
	}, []string{"outcome"})
	reg.MustRegister(c)
	for _, o := range []string{"success", "failure", "throttled"} {
		c.WithLabelValues(o) // export zeros so rates work from the first scrape
	}
	return func(outcome string) { c.WithLabelValues(outcome).Inc() }
}

package bench

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Load is an HTTP load generator: one GET with fixed headers, sent over a
// pool of keep-alive connections, as a reverse proxy asking for
// authorization keeps its connections to the gateway open. Do sends one
// request; call it from as many goroutines as there are connections (Run's
// workers), so that each in effect keeps one connection busy. It is safe
// for concurrent use.
type Load struct {
	url       *url.URL
	header    http.Header
	transport *http.Transport
	check     func(*http.Response) error
}

// NewLoad returns a Load sending GET target with header over at most conns
// connections. check judges each response (nil: any 200 passes); the body
// is read to the end and discarded after it, so the connection is reused.
func NewLoad(target string, header http.Header, conns int, check func(*http.Response) error) (*Load, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	if check == nil {
		check = wantStatus(http.StatusOK)
	}
	return &Load{url: u, header: header, check: check, transport: &http.Transport{
		MaxConnsPerHost:     conns,
		MaxIdleConnsPerHost: conns,
		MaxIdleConns:        conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}}, nil
}

// Do sends one request and checks the answer. The header map is shared by
// every request; the transport only reads it.
func (l *Load) Do() error {
	req := &http.Request{Method: http.MethodGet, URL: l.url, Host: l.url.Host, Header: l.header,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	resp, err := l.transport.RoundTrip(req)
	if err != nil {
		return err
	}
	err = l.check(resp)
	if _, cerr := io.Copy(io.Discard, resp.Body); err == nil {
		err = cerr
	}
	resp.Body.Close()
	return err
}

// Close closes the idle connections.
func (l *Load) Close() { l.transport.CloseIdleConnections() }

func wantStatus(code int) func(*http.Response) error {
	return func(r *http.Response) error {
		if r.StatusCode != code {
			return fmt.Errorf("bench: %s answered %d, want %d", r.Request.URL, r.StatusCode, code)
		}
		return nil
	}
}

// IdentityCeiling is the ceiling a forward-auth endpoint is measured
// against: a bare net/http handler that answers 200 with the four identity
// headers of the gateway's defaults and the values of the benchmark's user,
// and does nothing else.
func IdentityCeiling(user, name, groups string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Remote-User", user)
		h.Set("Remote-Email", user)
		h.Set("Remote-Name", name)
		h.Set("Remote-Groups", groups)
		w.WriteHeader(http.StatusOK)
	})
}

// Paced calls op n times from workers goroutines on a fixed schedule, rate
// calls a second (call i is due at start + i/rate). A call that finds every
// worker busy is timed from when it was due, not from when a worker got to
// it, so its wait counts, as a client arriving on its own schedule would
// see it (no coordinated omission); a call whose worker was idle and slept
// until it was due is timed from when the worker woke, so the timer's
// overshoot does not count. It stops at the first error.
func Paced(n, workers int, rate float64, op func() error) (Result, error) {
	var (
		next  atomic.Int64
		mu    sync.Mutex
		lat   = make([]time.Duration, 0, n)
		first error
		wg    sync.WaitGroup
	)
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	for range workers {
		wg.Go(func() {
			var mine []time.Duration
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				due := start.Add(time.Duration(i) * interval)
				if d := time.Until(due); d > 0 {
					time.Sleep(d)
					due = time.Now() // the sleep's overshoot is the generator's, not the server's
				}
				err := op()
				mine = append(mine, time.Since(due))
				if err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
					next.Store(int64(n))
					break
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	res := Result{Ops: len(lat), Elapsed: time.Since(start), Latencies: lat}
	slices.Sort(res.Latencies)
	return res, first
}

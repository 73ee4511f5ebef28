package bench

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"slices"
	"sync"
	"time"
)

// Result is what Run measured.
type Result struct {
	Ops     int
	Elapsed time.Duration
	// Latencies are those of every operation, sorted.
	Latencies []time.Duration
}

// Add merges o into r, as one measurement of both.
func (r *Result) Add(o Result) {
	r.Ops += o.Ops
	r.Elapsed += o.Elapsed
	r.Latencies = append(r.Latencies, o.Latencies...)
	slices.Sort(r.Latencies)
}

// PerSecond is the throughput.
func (r Result) PerSecond() float64 { return float64(r.Ops) / r.Elapsed.Seconds() }

// Percentile returns the p-th percentile latency (0 < p <= 100).
func (r Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.Latencies))*p/100+0.5) - 1
	return r.Latencies[min(max(i, 0), len(r.Latencies)-1)]
}

// Run calls op n times from workers goroutines at once and times each call.
// It stops at the first error.
func Run(n, workers int, op func() error) (Result, error) {
	var (
		mu    sync.Mutex
		lat   = make([]time.Duration, 0, n)
		first error
		wg    sync.WaitGroup
	)
	jobs := make(chan struct{}, n)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	start := time.Now()
	for range workers {
		wg.Go(func() {
			mine := make([]time.Duration, 0, n/workers+1)
			for range jobs {
				t0 := time.Now()
				err := op()
				mine = append(mine, time.Since(t0))
				if err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
					return
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	res := Result{Ops: n, Elapsed: time.Since(start), Latencies: lat}
	slices.Sort(res.Latencies)
	return res, first
}

// Signer returns the baseline operation: one RSA PKCS#1 v1.5 signature over
// a SHA-256 digest with key, the cost an SSO cannot avoid.
func Signer(key *rsa.PrivateKey) func() error {
	digest := sha256.Sum256([]byte("portcullis bench"))
	return func() error {
		_, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
		return err
	}
}

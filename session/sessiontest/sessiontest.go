// Package sessiontest is the conformance suite every session.Store backend
// passes: records with expiry and versions (Replace with a stale version
// conflicts; of concurrent writers at one version exactly one wins), the
// per-user index behind revocation, fixed window counters and first-wins
// claims; and a session.Manager on the store keeps every change of
// concurrent Updates. A backend's whole test calls Run
// with a function that opens a fresh, empty store.
//
// Only tests import it.
package sessiontest

import (
	"context"
	"testing"
	"time"

	"github.com/portcullis/portcullis/session"
)

// Clock moves a backend's notion of time forward by d. A backend with a
// settable clock jumps (memory: its Now; miniredis: FastForward); a real
// server is given real time with Sleep. The suite's expiry subtests advance
// by 400ms each, 1.2s in all (in parallel: 0.4s).
type Clock func(d time.Duration)

// Sleep is the Clock of a backend that runs on real time.
func Sleep(d time.Duration) { time.Sleep(d) }

// Durations the suite uses. Long outlives any subtest; Short is what the
// expiry subtests let run out, short enough to wait for on a real server and
// long enough to read back before it expires.
const (
	Long  = time.Minute
	Short = 300 * time.Millisecond
	// slack is how far a TTL read back from a real server may have run down.
	slack = time.Second
)

// NewStore opens a fresh, empty store for one subtest and registers its own
// cleanup with t. Subtests run in parallel, each on its own store.
type NewStore func(t *testing.T) (session.Store, Clock)

// Run runs the conformance suite against the stores newStore opens.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, session.Store, Clock)
	}{
		{"PutGetDelete", testPutGetDelete},
		{"PutCopies", testPutCopies},
		{"Replace", testReplace},
		{"Versions", testVersions},
		{"ReplaceConcurrent", testReplaceConcurrent},
		{"ManagerUpdateConcurrent", testManagerUpdateConcurrent},
		{"Expiry", testExpiry},
		{"DeleteUser", testDeleteUser},
		{"Incr", testIncr},
		{"IncrWindow", testIncrWindow},
		{"CountReset", testCountReset},
		{"Claim", testClaim},
		{"ClaimConcurrent", testClaimConcurrent},
		{"ClaimExpiry", testClaimExpiry},
		{"NonPositiveTTL", testNonPositiveTTL},
		{"Ping", testPing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, clock := newStore(t)
			tc.fn(t, s, clock)
		})
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }

// within checks that a TTL read back is at most want and has not run down by
// more than slack.
func within(t *testing.T, what string, got, want time.Duration) {
	t.Helper()
	if got > want || got <= want-slack {
		t.Errorf("%s: time left %v, want in (%v, %v]", what, got, want-slack, want)
	}
}

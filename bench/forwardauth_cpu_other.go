//go:build !unix

package bench

import "time"

// CPUTime is the process's CPU time where the platform reports it; here it
// does not, and it is 0.
func CPUTime() time.Duration { return 0 }

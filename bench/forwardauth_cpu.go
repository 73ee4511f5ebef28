//go:build unix

package bench

import (
	"syscall"
	"time"
)

// CPUTime is the CPU time, user and system, the process has used so far:
// of every goroutine in it, so a load generator's share counts too.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

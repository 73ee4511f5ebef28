package server

import (
	"os"
	"runtime/debug"
)

// GCPercent is the garbage collector's target that `gateway serve` sets
// when the environment sets none (GOGC): a collection when the heap has
// grown by four times what was live after the last, not by once (Go's 100).
//
// A node's live heap is small (a few megabytes: the directory stays in the
// store, the sessions in Redis), and a request allocates tens of kilobytes
// that die with it, so at 100 a busy node collected several times a second.
// Each collection takes a quarter of the cores while it marks, and its two
// stop-the-world phases wait for every running goroutine to reach a safe
// point, which leaves cores idle. At 400 it collects a quarter as often, for
// a peak heap of about five times the live one instead of two. GOGC (and
// GOMEMLIMIT) still set it explicitly; bench/README.md has the figures.
const GCPercent = 400

// TuneRuntime makes the changes to the Go runtime's defaults that a node
// runs with: GCPercent, unless GOGC is set. `gateway serve` calls it before
// it builds the node; the benchmarks call it so that they measure the node
// as it runs.
func TuneRuntime() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(GCPercent)
	}
}

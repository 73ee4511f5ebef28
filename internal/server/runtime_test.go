package server

import (
	"os"
	"runtime/debug"
	"testing"
)

// TuneRuntime sets GCPercent when GOGC is not set, and leaves the
// collector's target alone when it is.
func TestTuneRuntime(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })

	t.Setenv("GOGC", "50")
	TuneRuntime()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, the target became %d, want it left at 100", got)
	}

	os.Unsetenv("GOGC") // t.Setenv restores it
	TuneRuntime()
	if got := debug.SetGCPercent(100); got != GCPercent {
		t.Errorf("without GOGC, the target is %d, want %d", got, GCPercent)
	}
}

package memory_test

import (
	"testing"
	"time"

	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/session/memory"
	"github.com/portcullis/portcullis/session/sessiontest"
)

func TestConformance(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) (session.Store, sessiontest.Clock) {
		clock := sessiontest.NewManualClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
		s := memory.New(memory.WithNow(clock.Now))
		t.Cleanup(func() { s.Close() })
		return s, clock.Advance
	})
}

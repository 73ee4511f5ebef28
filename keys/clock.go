package keys

import (
	"time"

	"github.com/jonboulle/clockwork"
	dsig "github.com/russellhaering/goxmldsig"
)

// DSigClock is now as the clock goxmldsig and crewjam/saml read (to check
// certificate validity and message times), so that a handler with its own
// clock, a test's fixed time, is obeyed there too, without package globals.
func DSigClock(now func() time.Time) *dsig.Clock {
	return dsig.NewFakeClock(nowClock{Clock: clockwork.NewRealClock(), now: now})
}

// nowClock is a clockwork.Clock whose Now, Since and Until follow now.
type nowClock struct {
	clockwork.Clock
	now func() time.Time
}

func (c nowClock) Now() time.Time                  { return c.now() }
func (c nowClock) Since(t time.Time) time.Duration { return c.now().Sub(t) }
func (c nowClock) Until(t time.Time) time.Duration { return t.Sub(c.now()) }

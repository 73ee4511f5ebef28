package keys

import (
	"cmp"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ErrNoActiveKey means that no version of the signing key has activated yet.
var ErrNoActiveKey = errors.New("keys: no signing key is active")

// Version is one generation of the IdP signing key.
type Version struct {
	ID          int64
	Cert        *x509.Certificate
	Key         *rsa.PrivateKey // nil where only the certificate is needed
	ActivatesAt time.Time
}

// State is where a version stands in the rollover at one moment.
type State string

// States of a version.
const (
	// StateNext is published in metadata but does not sign yet, so that
	// apps learn its certificate before they see its signatures.
	StateNext State = "next"
	// StateActive signs, and is published first.
	StateActive State = "active"
	// StateRetired has been replaced. It stays published for one rollover
	// period after its successor activated, for apps still checking what
	// it signed, and is then dropped.
	StateRetired State = "retired"
)

// Status is a version's state at one moment.
type Status struct {
	Version
	State State
	// Published says whether metadata lists the certificate.
	Published bool
	// Until is when the state ends: a next version's activation, or the end
	// of a retired version's publication; zero for the active version.
	Until time.Time
}

// Order returns the versions sorted by ActivatesAt, then ID: the order the
// store lists them in, and the order of succession.
func Order(vs []Version) []Version {
	out := slices.Clone(vs)
	slices.SortFunc(out, func(a, b Version) int {
		if c := a.ActivatesAt.Compare(b.ActivatesAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// Classify returns the state of every version at now, in Order. The active
// version is the last to have activated; those after it are next; those
// before it are retired, each published until its successor's activation
// plus rollover.
func Classify(vs []Version, now time.Time, rollover time.Duration) []Status {
	sorted := Order(vs)
	active := -1
	for i, v := range sorted {
		if !v.ActivatesAt.After(now) {
			active = i
		}
	}
	out := make([]Status, len(sorted))
	for i, v := range sorted {
		s := Status{Version: v}
		switch {
		case i == active:
			s.State, s.Published = StateActive, true
		case i > active:
			s.State, s.Published, s.Until = StateNext, true, v.ActivatesAt
		default:
			s.State, s.Until = StateRetired, sorted[i+1].ActivatesAt.Add(rollover)
			s.Published = now.Before(s.Until)
		}
		out[i] = s
	}
	return out
}

// SetAt is the Set at now: the active version signs, and metadata
// publishes it, then the next versions in order of activation, then the
// retired ones still within their rollover, the most recent first.
func SetAt(vs []Version, now time.Time, rollover time.Duration) (Set, error) {
	var set Set
	var next, retiring []*x509.Certificate
	for _, s := range Classify(vs, now, rollover) {
		switch {
		case s.State == StateActive:
			if s.Key == nil {
				return Set{}, fmt.Errorf("keys: active signing key %d has no private key", s.ID)
			}
			set.Active = &Signing{Key: s.Key, Cert: s.Cert}
		case s.State == StateNext:
			next = append(next, s.Cert)
		case s.Published:
			retiring = append([]*x509.Certificate{s.Cert}, retiring...)
		}
	}
	if set.Active == nil {
		return Set{}, ErrNoActiveKey
	}
	set.Published = append(append([]*x509.Certificate{set.Active.Cert}, next...), retiring...)
	return set, nil
}

// NextChange is the first moment after now at which SetAt's answer changes:
// a next version's activation or the end of a retired version's
// publication. It is zero when no change is ahead.
func NextChange(vs []Version, now time.Time, rollover time.Duration) time.Time {
	var first time.Time
	for _, s := range Classify(vs, now, rollover) {
		if s.Until.After(now) && (first.IsZero() || s.Until.Before(first)) {
			first = s.Until
		}
	}
	return first
}

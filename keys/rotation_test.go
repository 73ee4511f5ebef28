package keys

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const rollover = 48 * time.Hour

// version is a version with a stand-in certificate named name.
func version(id int64, name string, activates time.Time) Version {
	return Version{ID: id, Cert: &x509.Certificate{Raw: []byte(name)}, Key: &rsa.PrivateKey{}, ActivatesAt: activates}
}

func names(certs []*x509.Certificate) string {
	var out []string
	for _, c := range certs {
		out = append(out, string(c.Raw))
	}
	return strings.Join(out, ",")
}

// TestRolloverTimeline follows one key from first start through two
// rotations, checking at each moment who signs, what metadata publishes, and
// when the answer next changes.
func TestRolloverTimeline(t *testing.T) {
	rotated := t0.Add(10 * 24 * time.Hour) // `keys rotate` is run here
	v1 := version(1, "v1", t0)
	v2 := version(2, "v2", rotated.Add(rollover))
	v3 := version(3, "v3", rotated.Add(rollover+2*time.Hour).Add(rollover)) // rotated again 2h after v2 activated
	for _, step := range []struct {
		at         time.Time
		vs         []Version
		active     string
		published  string
		nextChange time.Time
	}{
		{t0, []Version{v1}, "v1", "v1", time.Time{}},
		{rotated, []Version{v1, v2}, "v1", "v1,v2", v2.ActivatesAt},
		{v2.ActivatesAt.Add(-time.Nanosecond), []Version{v1, v2}, "v1", "v1,v2", v2.ActivatesAt},
		{v2.ActivatesAt, []Version{v1, v2}, "v2", "v2,v1", v2.ActivatesAt.Add(rollover)},
		{v2.ActivatesAt.Add(2 * time.Hour), []Version{v1, v2, v3}, "v2", "v2,v3,v1", v2.ActivatesAt.Add(rollover)},
		{v2.ActivatesAt.Add(rollover - time.Nanosecond), []Version{v1, v2, v3}, "v2", "v2,v3,v1", v2.ActivatesAt.Add(rollover)},
		{v2.ActivatesAt.Add(rollover), []Version{v1, v2, v3}, "v2", "v2,v3", v3.ActivatesAt},
		{v3.ActivatesAt, []Version{v3, v2, v1}, "v3", "v3,v2", v3.ActivatesAt.Add(rollover)},
		{v3.ActivatesAt.Add(rollover), []Version{v2, v1, v3}, "v3", "v3", time.Time{}},
	} {
		set, err := SetAt(step.vs, step.at, rollover)
		if err != nil {
			t.Fatalf("at %v: %v", step.at, err)
		}
		if got := string(set.Active.Cert.Raw); got != step.active {
			t.Errorf("at %v: active %s, want %s", step.at, got, step.active)
		}
		if got := names(set.Published); got != step.published {
			t.Errorf("at %v: published %s, want %s", step.at, got, step.published)
		}
		if got := NextChange(step.vs, step.at, rollover); !got.Equal(step.nextChange) {
			t.Errorf("at %v: next change %v, want %v", step.at, got, step.nextChange)
		}
	}
}

// An emergency rotation activates at once: the old key is retired and
// published for a rollover period, as after a planned one.
func TestEmergencyRotation(t *testing.T) {
	now := t0.Add(time.Hour)
	vs := []Version{version(1, "old", t0), version(2, "new", now)}
	set, err := SetAt(vs, now, rollover)
	if err != nil || string(set.Active.Cert.Raw) != "new" || names(set.Published) != "new,old" {
		t.Fatalf("set = %s / %s, %v", set.Active.Cert.Raw, names(set.Published), err)
	}
}

func TestClassify(t *testing.T) {
	v1, v2, v3 := version(1, "v1", t0), version(2, "v2", t0.Add(time.Hour)), version(3, "v3", t0.Add(72*time.Hour))
	now := t0.Add(50 * time.Hour) // v1 dropped (v2 activated 49h ago)
	got := Classify([]Version{v3, v1, v2}, now, rollover)
	want := []struct {
		id        int64
		state     State
		published bool
		until     time.Time
	}{
		{1, StateRetired, false, t0.Add(time.Hour + rollover)},
		{2, StateActive, true, time.Time{}},
		{3, StateNext, true, t0.Add(72 * time.Hour)},
	}
	if len(got) != len(want) {
		t.Fatalf("%d statuses, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.ID != w.id || g.State != w.state || g.Published != w.published || !g.Until.Equal(w.until) {
			t.Errorf("status %d = {%d %s %v %v}, want %+v", i, g.ID, g.State, g.Published, g.Until, w)
		}
	}
}

// Versions that activate at the same instant follow each other by ID, so
// that every node picks the same one (two nodes importing a key at once).
func TestTieBrokenByID(t *testing.T) {
	vs := []Version{version(7, "b", t0), version(3, "a", t0)}
	set, err := SetAt(vs, t0, rollover)
	if err != nil || string(set.Active.Cert.Raw) != "b" || names(set.Published) != "b,a" {
		t.Fatalf("set = %s / %s, %v", set.Active.Cert.Raw, names(set.Published), err)
	}
}

func TestNoActiveKey(t *testing.T) {
	if _, err := SetAt(nil, t0, rollover); !errors.Is(err, ErrNoActiveKey) {
		t.Errorf("no versions: %v", err)
	}
	future := []Version{version(1, "v1", t0.Add(time.Hour))}
	if _, err := SetAt(future, t0, rollover); !errors.Is(err, ErrNoActiveKey) {
		t.Errorf("only a future version: %v", err)
	}
	if got := NextChange(future, t0, rollover); !got.Equal(t0.Add(time.Hour)) {
		t.Errorf("next change = %v, want the activation", got)
	}
	certOnly := []Version{{ID: 1, Cert: &x509.Certificate{Raw: []byte("v1")}, ActivatesAt: t0}}
	if _, err := SetAt(certOnly, t0, rollover); err == nil || errors.Is(err, ErrNoActiveKey) {
		t.Errorf("active version without a private key: %v", err)
	}
}

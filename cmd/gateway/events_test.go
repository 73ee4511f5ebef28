package main

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/store"
)

func TestEventsUsageErrors(t *testing.T) {
	e := dataEnv(t)
	for _, args := range [][]string{
		{"events", "extra"}, {"events", "--since", "soon"}, {"events", "--until", "-1h"},
		{"events", "--format", "xml"}, {"events", "--json", "--format", "text"}, {"events", "--nope"},
	} {
		if r := gw(t, e, "", args...); r.code != 2 || r.stderr == "" {
			t.Errorf("gateway %v: exit %d, stderr %q; want 2 with a message", args, r.code, r.stderr)
		}
	}
}

// evTrail records events in shuffled order, so that IDs do not follow
// time: three at t0 (more than a page of two), and more in the next
// seconds. It returns their IDs oldest first by time, then ID.
func evTrail(t *testing.T, st store.Store, t0 time.Time) []string {
	t.Helper()
	offsets := []time.Duration{0, 0, 0, time.Microsecond, time.Second, time.Second, 2 * time.Second, 3 * time.Second}
	evs := make([]audit.Event, len(offsets))
	for _, i := range rand.New(rand.NewPCG(3, 4)).Perm(len(offsets)) {
		evs[i] = audit.Event{Time: t0.Add(offsets[i]), Type: "test.export", Subject: "s", Outcome: audit.Success}
		if err := st.Record(t.Context(), &evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	slices.SortStableFunc(evs, func(a, b audit.Event) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	var ids []string
	for _, e := range evs {
		ids = append(ids, strconv.FormatInt(e.ID, 10))
	}
	return ids
}

func TestEventsExport(t *testing.T) {
	old := eventsPage
	eventsPage = 2
	t.Cleanup(func() { eventsPage = old })
	e := dataEnv(t)
	st := openEnvStore(t, e)
	t0 := time.Date(2025, 1, 15, 14, 0, 0, 0, time.UTC)
	want := evTrail(t, st, t0)
	login := audit.Event{Time: t0.Add(-time.Second), Type: audit.LoginSucceeded, Actor: "ann@example.com",
		Subject: "ann@example.com", IP: "192.0.2.1", App: "Grafana", Outcome: audit.Success}
	failed := audit.Event{Time: t0.Add(-500 * time.Millisecond), Type: audit.LoginFailed, Subject: "evil\tname\nx",
		Outcome: audit.Failure}
	for _, ev := range []*audit.Event{&login, &failed} {
		if err := st.Record(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
	}

	for _, flags := range [][]string{{"--format", "jsonl"}, {"--json"}, {"--json", "--format", "jsonl"}} {
		args := append([]string{"events", "--since", "2025-01-15T09:00:00-05:00", "--until", "2025-01-15T14:00:03Z"}, flags...)
		r := mustRun(t, e, "", args...)
		var got []string
		for _, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
			var ev map[string]string
			decode(t, line, &ev)
			if ev["Type"] != "test.export" || ev["Action"] != "Test Export" || ev["Outcome"] != "success" {
				t.Errorf("line %s", line)
			}
			got = append(got, ev["ID"])
		}
		// Oldest first, the three at t0 together although a page holds two;
		// --until is exclusive.
		if !slices.Equal(got, want[:len(want)-1]) {
			t.Errorf("%v: IDs %v, want %v", flags, got, want[:len(want)-1])
		}
	}

	r := mustRun(t, e, "", "events", "--since", "2025-01-15", "--until", "2025-01-15T14:00:00Z", "--json")
	id, fid := strconv.FormatInt(login.ID, 10), strconv.FormatInt(failed.ID, 10)
	if wantOut := `{"Time":"2025-01-15 08:59:59","Username":"ann@example.com","IP_Address":"192.0.2.1","Action":"Log in",` +
		`"Data":"Grafana","ID":"` + id + `","Type":"login.succeeded","Outcome":"success","Timestamp":"2025-01-15T13:59:59.000000Z"}` + "\n" +
		`{"Time":"2025-01-15 08:59:59","Username":"evil\tname\nx","IP_Address":"","Action":"Failed Login Attempt",` +
		`"Data":"","ID":"` + fid + `","Type":"login.failed","Outcome":"failure","Timestamp":"2025-01-15T13:59:59.500000Z"}` + "\n"; r.stdout != wantOut {
		t.Errorf("jsonl:\n%s\nwant:\n%s", r.stdout, wantOut)
	}
	r = mustRun(t, e, "", "events", "--since", "2025-01-15", "--until", "2025-01-15T14:00:00Z")
	if wantOut := "2025-01-15T13:59:59.000000Z\tann@example.com\t192.0.2.1\tLog in\tGrafana\tsuccess\n" +
		"2025-01-15T13:59:59.500000Z\tevil name x\t\tFailed Login Attempt\t\tfailure\n"; r.stdout != wantOut {
		t.Errorf("text:\n%q\nwant:\n%q", r.stdout, wantOut)
	}
	if r := mustRun(t, e, "", "events", "--until", "2024-12-31"); r.stdout != "" {
		t.Errorf("nothing before 2025: %q", r.stdout)
	}
}

// A duration is counted back from now; --until defaults to now.
func TestEventsSinceDuration(t *testing.T) {
	e := dataEnv(t)
	st := openEnvStore(t, e)
	for _, at := range []time.Time{time.Now().Add(-2 * time.Hour), time.Now().AddDate(0, 0, -3), {}} {
		if err := st.Record(t.Context(), &audit.Event{Time: at, Type: audit.Logout, Subject: "s"}); err != nil {
			t.Fatal(err)
		}
	}
	for since, n := range map[string]int{"1h": 1, "150m": 2, "2d": 2, "4d": 3} {
		r := mustRun(t, e, "", "events", "--since", since, "--json")
		if got := strings.Count(r.stdout, "\n"); got != n {
			t.Errorf("--since %s: %d events, want %d:\n%s", since, got, n, r.stdout)
		}
	}
	var ev map[string]string
	decode(t, strings.Split(mustRun(t, e, "", "events", "--since", "1h", "--json").stdout, "\n")[0], &ev)
	if ev["Action"] != "Log Out" {
		t.Errorf("event %v", ev)
	}
}

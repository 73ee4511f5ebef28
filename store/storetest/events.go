package storetest

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/store"
)

var eventTests = []test{
	{"EventRecord", testEventRecord},
	{"EventRecordConcurrent", testEventRecordConcurrent},
	{"EventQueue", testEventQueue},
	{"EventQueueConcurrent", testEventQueueConcurrent},
	{"EventQueueIdle", testEventQueueIdle},
	{"EventFilters", testEventFilters},
	{"EventPaging", testEventPaging},
	{"EventOrder", testEventOrder},
}

func eventID(e audit.Event) int64 { return e.ID }

func testEventRecord(t *testing.T, s store.Store) {
	e := audit.Event{Time: ts, Type: audit.LoginFailed, Actor: "cli", Subject: "a@example.com",
		IP: "2001:db8::1", App: "wiki", Outcome: audit.Failure, Reason: "bad password",
		Details: map[string]string{"factor": "totp", "note": "<&>"}}
	must(t, s.Record(ctx(t), &e))
	equal(t, "Time", e.Time, kept(ts))
	bare := audit.Event{Type: audit.Logout}
	before := time.Now()
	must(t, s.Record(ctx(t), &bare))
	within(t, "Time set by Record", bare.Time, before, time.Now())
	if e.ID <= 0 || bare.ID <= e.ID {
		t.Fatalf("IDs %d, %d: want positive and increasing", e.ID, bare.ID)
	}
	got, err := s.ListEvents(ctx(t), store.EventFilter{})
	must(t, err)
	equal(t, "events, newest first", got, []audit.Event{bare, e})
	if got[0].Details == nil || len(got[0].Details) != 0 {
		t.Fatalf("Details = %#v, want an empty map", got[0].Details)
	}
}

// Events recorded at once (which a backend may commit together) each get
// their own ID, and read back as recorded.
func testEventRecordConcurrent(t *testing.T, s store.Store) {
	recordConcurrently(t, s, 16, 10, func(e *audit.Event, _ int) (bool, error) {
		return true, s.Record(ctx(t), e)
	})
}

// recordConcurrently has writers goroutines each record events of their
// own through record, which reports whether it kept the event in the
// trail, and checks that the trail holds exactly the events kept, each
// under the ID record set.
func recordConcurrently(t *testing.T, s store.Store, writers, each int, record func(e *audit.Event, i int) (bool, error)) {
	t.Helper()
	typ := "concurrent-" + t.Name()
	kept := make([]map[int64]string, writers)
	var wg sync.WaitGroup
	for w := range writers {
		kept[w] = map[int64]string{}
		wg.Go(func() {
			for i := range each {
				e := audit.Event{Type: typ, Subject: fmt.Sprintf("w%d-%d", w, i)}
				ok, err := record(&e, i)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					kept[w][e.ID] = e.Subject
				}
			}
		})
	}
	wg.Wait()
	got, err := s.ListEvents(ctx(t), store.EventFilter{Types: []string{typ}})
	must(t, err)
	byID := map[int64]string{}
	for _, e := range got {
		byID[e.ID] = e.Subject
	}
	n := 0
	for _, k := range kept {
		for id, subject := range k {
			equal(t, fmt.Sprintf("subject of event %d", id), byID[id], subject)
			n++
		}
	}
	equal(t, "events in the trail", len(got), n)
}

// An event queued and withdrawn before any commit took it is not in the
// trail; one committed is, with its ID set. A withdrawal that fails (another
// event's commit took this one along) means the event is in the trail, and
// its Commit still succeeds.
func testEventQueue(t *testing.T, s store.Store) {
	q, ok := s.(store.EventQueue)
	if !ok {
		t.Fatalf("%T is not a store.EventQueue", s)
	}
	gone := audit.Event{Type: "queued", Subject: "withdrawn"}
	kept := audit.Event{Type: "queued", Subject: "committed", Details: map[string]string{"k": "v"}}
	qGone, qKept := q.QueueEvent(ctx(t), &gone), q.QueueEvent(ctx(t), &kept)
	if !qGone.Withdraw() {
		t.Fatal("Withdraw before any commit = false")
	}
	must(t, qKept.Commit(ctx(t)))
	if kept.ID <= 0 || kept.Time.IsZero() {
		t.Fatalf("committed event: ID %d, Time %v; want both set", kept.ID, kept.Time)
	}

	// later is queued first; first's commit may take it along.
	later := audit.Event{Type: "queued", Subject: "later"}
	first := audit.Event{Type: "queued", Subject: "first"}
	qLater := q.QueueEvent(ctx(t), &later)
	must(t, q.QueueEvent(ctx(t), &first).Commit(ctx(t)))
	want := []string{"committed", "first"}
	if !qLater.Withdraw() {
		must(t, qLater.Commit(ctx(t)))
		if later.ID <= 0 {
			t.Fatalf("event whose withdrawal failed: ID %d after Commit", later.ID)
		}
		want = append(want, "later")
	}
	got, err := s.ListEvents(ctx(t), store.EventFilter{Types: []string{"queued"}})
	must(t, err)
	var subjects []string
	for _, g := range got {
		subjects = append(subjects, g.Subject)
		if g.Subject == "committed" {
			equal(t, "committed event", g, kept)
		}
	}
	slices.Sort(subjects)
	equal(t, "subjects in the trail", subjects, want)
}

// Events queued at once, some withdrawn, the rest committed: exactly those
// whose withdrawal failed or that were committed are in the trail, each
// under the ID its Commit set.
func testEventQueueConcurrent(t *testing.T, s store.Store) {
	q := s.(store.EventQueue)
	recordConcurrently(t, s, 8, 12, func(e *audit.Event, i int) (bool, error) {
		qe := q.QueueEvent(ctx(t), e)
		if i%3 == 0 && qe.Withdraw() {
			return false, nil
		}
		return true, qe.Commit(ctx(t))
	})
}

// Events queued and not yet committed hold nobody up: Records made
// meanwhile, many at once (so that commits follow one another and hand on
// the lead), all return, though events keep being queued during their
// commits; the queued events' own Commits then find them committed along
// with others, or commit them.
func testEventQueueIdle(t *testing.T, s store.Store) {
	q := s.(store.EventQueue)
	stop, queued := make(chan struct{}), make(chan []store.QueuedEvent)
	go func() {
		var qs []store.QueuedEvent
		for i := 0; ; i++ {
			select {
			case <-stop:
				queued <- qs
				return
			default:
			}
			if len(qs) < 2000 {
				e := audit.Event{Type: "queued-idle", Subject: fmt.Sprintf("idle-%d", i)}
				qs = append(qs, q.QueueEvent(ctx(t), &e))
			}
			runtime.Gosched()
		}
	}()
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		recordConcurrently(t, s, 8, 10, func(e *audit.Event, _ int) (bool, error) {
			return true, s.Record(ctx(t), e)
		})
	}()
	select {
	case <-recorded:
	case <-time.After(time.Minute):
		t.Fatal("Records still waiting after a minute: the lead went to an event nobody waits for")
	}
	close(stop)
	qs := <-queued
	for _, qe := range qs {
		must(t, qe.Commit(ctx(t)))
	}
	got, err := s.ListEvents(ctx(t), store.EventFilter{Types: []string{"queued-idle"}})
	must(t, err)
	equal(t, "idle events in the trail", len(got), len(qs))
}

// seedEvents records five events a minute apart, from t0; the last one's
// time is earlier than the others, so that order by ID and by time differ.
func seedEvents(t *testing.T, s store.Store, t0 time.Time) []int64 {
	t.Helper()
	var out []int64
	for _, e := range []audit.Event{
		{Time: t0, Type: audit.LoginSucceeded, Subject: "alice@example.com", App: "wiki",
			Details: map[string]string{"method": "password"}},
		{Time: t0.Add(time.Minute), Type: audit.LoginFailed, Subject: "Bob@example.com",
			Reason: "Bad Password"},
		{Time: t0.Add(2 * time.Minute), Type: audit.UserCreated, Actor: "cli",
			Subject: "carol@example.com", Details: map[string]string{"via": "Admin Console"}},
		{Time: t0.Add(3 * time.Minute), Type: audit.LoginSucceeded, Subject: "ALICE@example.com",
			App: "Grafana", Details: map[string]string{"path": "/a_b%c"}},
		{Time: t0.Add(4 * time.Minute), Type: audit.UserDeleted, Actor: "api:hr",
			Subject: "bob@example.com.evil"},
	} {
		must(t, s.Record(ctx(t), &e))
		out = append(out, e.ID)
	}
	return out
}

func testEventFilters(t *testing.T, s store.Store) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)
	id := seedEvents(t, s, t0)
	pick := func(is ...int) []int64 {
		out := []int64{}
		for _, i := range is {
			out = append(out, id[i-1])
		}
		return out
	}
	local := time.FixedZone("EST", -5*3600)
	for _, tc := range []struct {
		name string
		f    store.EventFilter
		want []int64
	}{
		{"all", store.EventFilter{}, pick(5, 4, 3, 2, 1)},
		{"since is inclusive", store.EventFilter{Since: t0.Add(time.Minute)}, pick(5, 4, 3, 2)},
		{"since in another zone", store.EventFilter{Since: t0.Add(time.Minute).In(local)}, pick(5, 4, 3, 2)},
		{"since between", store.EventFilter{Since: t0.Add(time.Minute + time.Microsecond)}, pick(5, 4, 3)},
		{"until is exclusive", store.EventFilter{Until: t0.Add(3 * time.Minute)}, pick(3, 2, 1)},
		{"window", store.EventFilter{Since: t0.Add(time.Minute), Until: t0.Add(3 * time.Minute)}, pick(3, 2)},
		{"one type", store.EventFilter{Types: []string{audit.LoginSucceeded}}, pick(4, 1)},
		{"types", store.EventFilter{Types: []string{audit.LoginFailed, audit.UserDeleted}}, pick(5, 2)},
		{"subject", store.EventFilter{Subject: "alice@EXAMPLE.com"}, pick(4, 1)},
		{"subject is exact", store.EventFilter{Subject: "bob@example.com"}, pick(2)},
		{"actor", store.EventFilter{Actor: "CLI"}, pick(3)},
		{"search app", store.EventFilter{Search: "grafana"}, pick(4)},
		{"search reason", store.EventFilter{Search: "bad pass"}, pick(2)},
		{"search details", store.EventFilter{Search: "admin CONSOLE"}, pick(3)},
		{"search type", store.EventFilter{Search: "USER.DEL"}, pick(5)},
		{"search actor", store.EventFilter{Search: "API:"}, pick(5)},
		{"search subject", store.EventFilter{Search: "carol"}, pick(3)},
		{"search wildcards are literal", store.EventFilter{Search: "_b%"}, pick(4)},
		{"search percent", store.EventFilter{Search: "%"}, pick(4)},
		{"search nothing", store.EventFilter{Search: "nothing"}, pick()},
		{"limit", store.EventFilter{Limit: 2}, pick(5, 4)},
		{"before ID", store.EventFilter{BeforeID: id[3]}, pick(3, 2, 1)},
		{"before ID with limit", store.EventFilter{BeforeID: id[3], Limit: 1}, pick(3)},
		{"combined", store.EventFilter{Types: []string{audit.LoginSucceeded}, Subject: "alice@example.com",
			Since: t0.Add(time.Minute)}, pick(4)},
	} {
		got, err := s.ListEvents(ctx(t), tc.f)
		must(t, err)
		equal(t, tc.name, ids(got, eventID), tc.want)
	}
}

// Paging by BeforeID visits every event once, newest first, even when
// times are not in ID order.
func testEventPaging(t *testing.T, s store.Store) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	id := seedEvents(t, s, t0)
	late := audit.Event{Time: t0.Add(-time.Hour), Type: "clock.skew"}
	must(t, s.Record(ctx(t), &late))
	want := []int64{late.ID, id[4], id[3], id[2], id[1], id[0]}
	var got []int64
	f := store.EventFilter{Limit: 2}
	for range 10 {
		page, err := s.ListEvents(ctx(t), f)
		must(t, err)
		if len(page) == 0 {
			break
		}
		got = append(got, ids(page, eventID)...)
		f.BeforeID = page[len(page)-1].ID
	}
	equal(t, "paged IDs", got, want)
}

// The time orders sort by time, then ID, whatever the order of recording,
// and keep the other filters.
func testEventOrder(t *testing.T, s store.Store) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	id := seedEvents(t, s, t0)
	late := audit.Event{Time: t0.Add(-time.Hour), Type: "clock.skew"}
	tie := audit.Event{Time: t0.Add(2 * time.Minute), Type: "tie"}
	must(t, s.Record(ctx(t), &late))
	must(t, s.Record(ctx(t), &tie))
	for _, tc := range []struct {
		name string
		f    store.EventFilter
		want []int64
	}{
		{"by ID", store.EventFilter{Order: store.NewestByID}, []int64{tie.ID, late.ID, id[4], id[3], id[2], id[1], id[0]}},
		{"newest by time", store.EventFilter{Order: store.NewestByTime},
			[]int64{id[4], id[3], tie.ID, id[2], id[1], id[0], late.ID}},
		{"oldest by time", store.EventFilter{Order: store.OldestByTime},
			[]int64{late.ID, id[0], id[1], id[2], tie.ID, id[3], id[4]}},
		{"newest by time in a window", store.EventFilter{Order: store.NewestByTime, Since: t0,
			Until: t0.Add(3 * time.Minute), Limit: 3}, []int64{tie.ID, id[2], id[1]}},
		{"oldest by time with a filter", store.EventFilter{Order: store.OldestByTime,
			Types: []string{audit.LoginSucceeded, "clock.skew"}, Limit: 2}, []int64{late.ID, id[0]}},
	} {
		got, err := s.ListEvents(ctx(t), tc.f)
		must(t, err)
		equal(t, tc.name, ids(got, eventID), tc.want)
	}
}

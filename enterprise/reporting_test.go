package enterprise

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/sqlite"
)

// repT0 is 09:00:00 in New York, the default reporting zone.
var repT0 = time.Date(2025, 1, 15, 14, 0, 0, 0, time.UTC)

// repRecord records events as given (times included) and returns them with
// their IDs.
func repRecord(t *testing.T, s *server, es ...audit.Event) []audit.Event {
	t.Helper()
	for i := range es {
		if err := s.st.Record(t.Context(), &es[i]); err != nil {
			t.Fatal(err)
		}
	}
	return es
}

// repSeed records a small trail around repT0 and the users it names.
func repSeed(t *testing.T, s *server) {
	t.Helper()
	for _, email := range []string{"ann@example.com", "bob@example.com"} {
		if err := s.st.CreateUser(t.Context(), &store.User{Email: email}); err != nil {
			t.Fatal(err)
		}
	}
	at := func(d time.Duration) time.Time { return repT0.Add(d) }
	repRecord(t, s,
		audit.Event{Time: at(-time.Microsecond), Type: audit.Logout, Actor: "ann@example.com", Subject: "ann@example.com"},
		audit.Event{Time: at(time.Second), Type: audit.LoginSucceeded, Actor: "ann@example.com",
			Subject: "ann@example.com", IP: "192.0.2.1", App: "Grafana"},
		audit.Event{Time: at(2 * time.Second), Type: audit.LoginFailed, Subject: "bob@example.com",
			IP: "198.51.100.7", Reason: "bad password"},
		audit.Event{Time: at(3 * time.Second), Type: audit.UserCreated, Actor: "api:hr", Subject: "carol@example.com"},
		audit.Event{Time: at(4 * time.Second), Type: audit.GroupMemberAdd, Actor: "api", Subject: "bob@example.com",
			Details: map[string]string{"group": "Staff"}},
		audit.Event{Time: at(5 * time.Second), Type: audit.GroupCreated, Actor: "cli", Subject: "Staff"},
		audit.Event{Time: at(6*time.Second + 999_999*time.Microsecond), Type: "saml.sso", Actor: "ann@example.com",
			Subject: "ann@example.com", App: "Wiki"},
		audit.Event{Time: at(7 * time.Second), Type: audit.Logout, Actor: "ann@example.com", Subject: "ann@example.com"},
	)
}

// The rows of repSeed inside 09:00:00–09:00:06, newest first.
var (
	repSSO     = `{"Time":"2025-01-15 09:00:06","Username":"ann@example.com","IP_Address":"","Action":"SAML Login","Data":"Wiki"}`
	repGroup   = `{"Time":"2025-01-15 09:00:05","Username":"CLI","IP_Address":"","Action":"Create Group","Data":"'Staff'"}`
	repMember  = `{"Time":"2025-01-15 09:00:04","Username":"API","IP_Address":"","Action":"Adding User to Group","Data":"bob@example.com - Staff"}`
	repCreated = `{"Time":"2025-01-15 09:00:03","Username":"API: hr","IP_Address":"","Action":"Employee Account Created","Data":"carol@example.com"}`
	repFailed  = `{"Time":"2025-01-15 09:00:02","Username":"bob@example.com","IP_Address":"198.51.100.7","Action":"Failed Login Attempt","Data":""}`
	repLogin   = `{"Time":"2025-01-15 09:00:01","Username":"ann@example.com","IP_Address":"192.0.2.1","Action":"Log in","Data":"Grafana"}`
)

// repData numbers rows as Event1…EventN.
func repData(rows ...string) string {
	if len(rows) == 0 {
		return "[]"
	}
	var b strings.Builder
	for i, r := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"Event%d":%s`, i+1, r)
	}
	return "{" + b.String() + "}"
}

const repWindow = `"from":"2025-01-15 09:00:00","to":"2025-01-15 09:00:06"`

func TestReportingDefaultFormat(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		repSeed(t, s)
		s.cmd(t, "reporting", `{`+repWindow+`}`).want(t, `{"status":"OK","next":null,"data":`+
			repData(repSSO, repGroup, repMember, repCreated, repFailed, repLogin)+`}`)
		s.cmd(t, "reporting", `{"from":"2025-01-15 09:00:02","to":"2025-01-15 09:00:03","user":"allusers"}`).
			want(t, `{"status":"OK","next":null,"data":`+repData(repCreated, repFailed)+`}`)
		s.cmd(t, "reporting", `{"from":"2024-01-01 00:00:00","to":"2024-12-31 23:59:59"}`).
			want(t, `{"status":"OK","next":null,"data":[]}`)
		s.cmd(t, "reporting", `{"from":"2025-01-15 09:00:07","to":"2025-01-15 09:00:00"}`).
			want(t, `{"status":"OK","next":null,"data":[]}`)
	})
}

func TestReportingSIEMFormat(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		repSeed(t, s)
		evs, err := s.st.ListEvents(t.Context(), store.EventFilter{Types: []string{audit.LoginFailed, audit.UserCreated}})
		if err != nil || len(evs) != 2 {
			t.Fatal(evs, err)
		}
		s.cmd(t, "reporting", `{"from":"2025-01-15 09:00:02","to":"2025-01-15 09:00:03","format":"siem"}`).want(t,
			`{"status":"OK","next":null,"events":[`+
				`{"Time":"2025-01-15 09:00:03","Username":"API: hr","IP_Address":"","Action":"Employee Account Created","Data":"carol@example.com","ID":"`+
				strconv.FormatInt(evs[0].ID, 10)+`"},`+
				`{"Time":"2025-01-15 09:00:02","Username":"bob@example.com","IP_Address":"198.51.100.7","Action":"Failed Login Attempt","Data":"","ID":"`+
				strconv.FormatInt(evs[1].ID, 10)+`"}]}`)
		s.cmd(t, "reporting", `{"from":"2024-01-01 00:00:00","to":"2024-01-01 00:00:00","format":"SIEM"}`).
			want(t, `{"status":"OK","next":null,"events":[]}`)
	})
}

// repPost sends reporting with top-level members (such as "user") beside
// data.
func repPost(t *testing.T, s *server, top, data string) reply {
	t.Helper()
	return s.post(t, `{"cid":"`+testCID+`","provhash":"`+s.provhash+`","cmd":"reporting",`+top+`,"data":`+data+`}`, "")
}

func TestReportingUser(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		repSeed(t, s)
		// ann's own events; bob's include the failed login (no actor) and the
		// membership the API gave him.
		s.cmd(t, "reporting", `{`+repWindow+`,"user":"ANN@example.com"}`).
			want(t, `{"status":"OK","next":null,"data":`+repData(repSSO, repLogin)+`}`)
		repPost(t, s, `"user":"bob@example.com","apiuser":"splunk.collector"`, `{`+repWindow+`}`).
			want(t, `{"status":"OK","next":null,"data":`+repData(repMember, repFailed)+`}`)
		repPost(t, s, `"user":"allusers"`, `{`+repWindow+`,"user":"bob@example.com"}`).
			want(t, `{"status":"OK","next":null,"data":`+repData(repMember, repFailed)+`}`)
		repPost(t, s, `"user":"bob@example.com"`, `{`+repWindow+`,"user":"allusers"}`).
			want(t, `{"status":"OK","next":null,"data":`+repData(repSSO, repGroup, repMember, repCreated, repFailed, repLogin)+`}`)
		for _, bad := range []string{`"carol@example.com"`, `"nobody"`} {
			s.cmd(t, "reporting", `{`+repWindow+`,"user":`+bad+`}`).
				want(t, `{"status":"FAIL","error":"Please select a valid user."}`)
		}
		repPost(t, s, `"user":"nobody@example.com"`, `{`+repWindow+`}`).
			want(t, `{"status":"FAIL","error":"Please select a valid user."}`)
	})
}

func TestReportingAdminAndSearch(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		repSeed(t, s)
		for _, admin := range []string{`"1"`, `1`, `true`} {
			s.cmd(t, "reporting", `{`+repWindow+`,"admin":`+admin+`}`).
				want(t, `{"status":"OK","next":null,"data":`+repData(repGroup, repMember, repCreated)+`}`)
		}
		for _, admin := range []string{`"0"`, `0`, `false`, `""`} {
			s.cmd(t, "reporting", `{`+repWindow+`,"admin":`+admin+`}`).
				want(t, `{"status":"OK","next":null,"data":`+repData(repSSO, repGroup, repMember, repCreated, repFailed, repLogin)+`}`)
		}
		s.cmd(t, "reporting", `{`+repWindow+`,"admin":"1","user":"bob@example.com"}`).
			want(t, `{"status":"OK","next":null,"data":`+repData(repMember)+`}`)
		s.cmd(t, "reporting", `{`+repWindow+`,"search":"STAFF"}`).
			want(t, `{"status":"OK","next":null,"data":`+repData(repGroup, repMember)+`}`)
		s.cmd(t, "reporting", `{`+repWindow+`,"search":"grafana","user":"ann@example.com"}`).
			want(t, `{"status":"OK","next":null,"data":`+repData(repLogin)+`}`)
	})
}

func TestReportingBadRequests(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		before, _ := s.st.ListEvents(t.Context(), store.EventFilter{})
		for data, msg := range map[string]string{
			`{"from":"2025-01-15T09:00:00Z"}`: "Invalid from: want YYYY-MM-DD HH:MM:SS",
			`{"from":"2025-01-15"}`:           "Invalid from: want YYYY-MM-DD HH:MM:SS",
			`{"to":"yesterday"}`:              "Invalid to: want YYYY-MM-DD HH:MM:SS",
			`{"next":"soon"}`:                 "Invalid next: want the number a previous call returned",
			`{"next":1.5}`:                    "Invalid next: want the number a previous call returned",
			`{"from":{"a":1}}`:                "Invalid data: from must be a string",
			`{"user":["ann@example.com"]}`:    "Invalid data: user must be a string",
		} {
			s.cmd(t, "reporting", data).want(t, `{"status":"FAIL","error":"`+msg+`"}`)
		}
		if r := s.cmd(t, "reporting", `["from"]`); !strings.HasPrefix(r.body, `{"status":"FAIL","error":"Invalid data: `) {
			t.Errorf("array data: %s", r.body)
		}
		after, _ := s.st.ListEvents(t.Context(), store.EventFilter{})
		if len(after) != len(before) {
			t.Errorf("a refused request recorded %d events", len(after)-len(before))
		}
	})
}

// Each call is recorded before it reads, with the caller as the actor; it
// reads as LastPass's "Reporting" event.
func TestReportingRecordsTheCall(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		repPost(t, s, `"user":"allusers","apiuser":"splunk.collector"`, `{"from":"2025-01-15 09:00:00"}`)
		evs, err := s.st.ListEvents(t.Context(), store.EventFilter{Types: []string{EventReporting}})
		if err != nil || len(evs) != 1 {
			t.Fatal(evs, err)
		}
		e := evs[0]
		if e.Actor != "api:splunk.collector" || e.Details["from"] != "2025-01-15 09:00:00" || e.Details["cmd"] != "reporting" {
			t.Errorf("event = %+v", e)
		}
		// A report without to includes the call itself.
		r := s.cmd(t, "reporting", `{"from":"2025-01-15 09:00:00","format":"siem"}`)
		want := `{"Time":"` + s.h.stamp(e.Time) + `","Username":"API: splunk.collector","IP_Address":"` + e.IP +
			`","Action":"Reporting","Data":"Initiated by API","ID":"` + strconv.FormatInt(e.ID, 10) + `"}]}`
		if !strings.HasSuffix(r.body, want) || !strings.Contains(r.body, `"Username":"API","IP_Address"`) {
			t.Errorf("got %s\nwant the calls, ending with %s", r.body, want)
		}
	})
}

// from and to are wall times in the reporting zone; to includes its
// second; the hour repeated when clocks go back counts whole at both ends.
func TestReportingWindow(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		first := time.Date(2025, 11, 2, 5, 30, 0, 0, time.UTC) // 01:30 EDT
		repRecord(t, s,
			audit.Event{Time: first.Add(-time.Second), Type: "x.before", Subject: "a"},
			audit.Event{Time: first, Type: "x.first", Subject: "b"},
			audit.Event{Time: first.Add(time.Hour + 999_999*time.Microsecond), Type: "x.second", Subject: "c"}, // 01:30 EST
			audit.Event{Time: first.Add(time.Hour + time.Second), Type: "x.after", Subject: "d"},
		)
		row := func(typ, subject string) string {
			return `{"Time":"2025-11-02 01:30:00","Username":"` + subject + `","IP_Address":"","Action":"` + typ + `","Data":"` + subject + `"}`
		}
		s.cmd(t, "reporting", `{"from":"2025-11-02 01:30:00","to":"2025-11-02 01:30:00"}`).want(t,
			`{"status":"OK","next":null,"data":`+repData(row("X Second", "c"), row("X First", "b"))+`}`)

		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		s.h.Zone = tokyo
		s.cmd(t, "reporting", `{"from":"2025-11-02 14:29:59","to":"2025-11-02 14:29:59"}`).want(t,
			`{"status":"OK","next":null,"data":{"Event1":{"Time":"2025-11-02 14:29:59","Username":"a","IP_Address":"","Action":"X Before","Data":"a"}}}`)
	})
}

// repPage is one reporting answer, as a client reads it.
type repPage struct {
	Status string
	Next   json.Number
	Data   json.RawMessage
}

// repCall sends data and returns the event IDs of the answer in order (by
// way of their Data, which repIDsAsData sets to the ID) and next.
func repCall(t *testing.T, s *server, data map[string]any) ([]string, string) {
	t.Helper()
	b, _ := json.Marshal(data)
	return repParse(t, s.cmd(t, "reporting", string(b)))
}

func repParse(t *testing.T, r reply) ([]string, string) {
	t.Helper()
	var p repPage
	dec := json.NewDecoder(strings.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil || p.Status != "OK" {
		t.Fatalf("%s: %v", r.body, err)
	}
	var rows map[string]struct{ Data string }
	if !bytes.Equal(p.Data, []byte("[]")) {
		if err := json.Unmarshal(p.Data, &rows); err != nil {
			t.Fatal(err)
		}
	}
	ids := make([]string, len(rows))
	for i := range ids {
		row, ok := rows["Event"+strconv.Itoa(i+1)]
		if !ok {
			t.Fatalf("no Event%d in %s", i+1, r.body)
		}
		ids[i] = row.Data
	}
	return ids, p.Next.String()
}

const repPager = "pager@example.com"

// repPaging creates pager and records a trail of theirs whose seconds hold
// up to 7 events (pairs at the same microsecond), in shuffled order so
// that IDs do not follow time. The events are pager's as actor, as
// subject, or both, so that reports read them through both queries.
func repPaging(t *testing.T, s *server) {
	t.Helper()
	if err := s.st.CreateUser(t.Context(), &store.User{Email: repPager}); err != nil {
		t.Fatal(err)
	}
	var evs []audit.Event
	for sec, n := range []int{3, 1, 7, 2, 0, 4, 1, 5, 2, 3} {
		for i := range n {
			e := audit.Event{Time: repT0.Add(time.Duration(sec)*time.Second + time.Duration(i/2*250_000)*time.Microsecond),
				Type: "test.paging", Actor: repPager, Subject: repPager}
			switch len(evs) % 3 {
			case 0:
				e.Actor = ""
			case 1:
				e.Subject = "other@example.com"
			}
			evs = append(evs, e)
		}
	}
	for _, i := range rand.New(rand.NewPCG(1, 2)).Perm(len(evs)) {
		repRecord(t, s, evs[i])
	}
}

// repTrail returns pager's events in the store, newest first by time.
func repTrail(t *testing.T, s *server) []audit.Event {
	t.Helper()
	byID := map[int64]audit.Event{}
	for _, f := range []store.EventFilter{{Subject: repPager}, {Actor: repPager}} {
		evs, err := s.st.ListEvents(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			byID[e.ID] = e
		}
	}
	var out []audit.Event
	for _, e := range byID {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b audit.Event) int {
		if newer(a, b) {
			return -1
		}
		return 1
	})
	return out
}

func repIDs(evs []audit.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = strconv.FormatInt(e.ID, 10)
	}
	return out
}

// repIDsAsData makes the test events show their ID as Data.
func repIDsAsData(t *testing.T) {
	for _, typ := range []string{"test.paging", "test.late"} {
		eventActions[typ] = eventAction{"Test", false, func(e audit.Event) string { return strconv.FormatInt(e.ID, 10) }}
		t.Cleanup(func() { delete(eventActions, typ) })
	}
}

func repSmallPages(t *testing.T, n int) {
	old := maxReportEvents
	maxReportEvents = n
	t.Cleanup(func() { maxReportEvents = old })
}

// A client that follows next sees each event once, newest first, while
// new events arrive between its calls; so does Elastic's loop, which turns
// next into a to of whole seconds (§2.11).
func TestReportingPagingLoops(t *testing.T) {
	repIDsAsData(t)
	repSmallPages(t, 5)
	eachBackend(t, func(t *testing.T, s *server) {
		repPaging(t, s)
		from := "2025-01-15 09:00:00"
		arrive := func() { repRecord(t, s, audit.Event{Type: "test.late", Subject: repPager}) }

		t.Run("next", func(t *testing.T) {
			want := repTrail(t, s)
			var got []string
			var sizes []int
			ids, next := repCall(t, s, map[string]any{"from": from, "user": repPager})
			for {
				got, sizes = append(got, ids...), append(sizes, len(ids))
				if next == "" || len(got) >= len(want) {
					break
				}
				// next is the time of the newest event left.
				if n, _ := strconv.ParseInt(next, 10, 64); n != want[len(got)].Time.UnixMicro() {
					t.Fatalf("next %s, want the time of %+v", next, want[len(got)])
				}
				arrive()
				ids, next = repCall(t, s, map[string]any{"from": from, "user": repPager, "next": json.Number(next)})
			}
			if !slices.Equal(got, repIDs(want)) || next != "" {
				t.Errorf("saw %v (next %q)\nwant %v", got, next, repIDs(want))
			}
			// Pages end between seconds; the second holding 7 comes whole.
			if !slices.Equal(sizes, []int{5, 5, 5, 2, 7, 4}) {
				t.Errorf("page sizes %v", sizes)
			}
		})

		t.Run("elastic", func(t *testing.T) {
			want := repTrail(t, s) // with the events that arrived during the first loop
			var got []string
			data := map[string]any{"from": from, "to": time.Now().In(s.h.zone()).Format("2006-01-02 15:04:05")}
			repPost := func() ([]string, string) {
				b, _ := json.Marshal(data)
				r := s.post(t, `{"cid":"`+testCID+`","provhash":"`+s.provhash+`","cmd":"reporting","user":"`+repPager+`","data":`+string(b)+`}`, "")
				return repParse(t, r)
			}
			ids, next := repPost()
			for i := 0; ; i++ {
				got = append(got, ids...)
				if next == "" || i > len(want) {
					break
				}
				arrive()
				// formatDate (parseTimestampMilli (div (toInt next) 1000)) "2006-01-02 15:04:05" "Local"
				n, _ := strconv.ParseInt(next, 10, 64)
				data["to"] = time.UnixMilli(n / 1000).In(s.h.zone()).Format("2006-01-02 15:04:05")
				ids, next = repPost()
			}
			if !slices.Equal(got, repIDs(want)) || next != "" {
				t.Errorf("saw %v (next %q)\nwant %v", got, next, repIDs(want))
			}
		})
	})
}

// next is exact: the microsecond time of the newest event left, as a number
// or a string; the answer before it stops at a second boundary.
func TestReportingNextValue(t *testing.T) {
	repSmallPages(t, 2)
	eachBackend(t, func(t *testing.T, s *server) {
		evs := repRecord(t, s,
			audit.Event{Time: repT0.Add(123_456 * time.Microsecond), Type: "a", Subject: "s"},
			audit.Event{Time: repT0.Add(time.Second + 500_000*time.Microsecond), Type: "b", Subject: "s"},
			audit.Event{Time: repT0.Add(time.Second + 700_001*time.Microsecond), Type: "c", Subject: "s"},
			audit.Event{Time: repT0.Add(2 * time.Second), Type: "d", Subject: "s"},
		)
		row := func(sec int, typ string) string {
			return fmt.Sprintf(`{"Time":"2025-01-15 09:00:0%d","Username":"s","IP_Address":"","Action":"%s","Data":"s"}`, sec, typ)
		}
		next := strconv.FormatInt(evs[2].Time.UnixMicro(), 10)
		if next != "1736949601700001" {
			t.Fatalf("next %s", next)
		}
		s.cmd(t, "reporting", `{"from":"2025-01-15 09:00:00","to":"2025-01-15 09:00:09"}`).
			want(t, `{"status":"OK","next":`+next+`,"data":`+repData(row(2, "D"))+`}`)
		for _, n := range []string{next, `"` + next + `"`} {
			s.cmd(t, "reporting", `{"from":"2025-01-15 09:00:00","next":`+n+`}`).
				want(t, `{"status":"OK","next":1736949600123456,"data":`+repData(row(1, "C"), row(1, "B"))+`}`)
		}
		s.cmd(t, "reporting", `{"next":1736949600123456}`).
			want(t, `{"status":"OK","next":null,"data":`+repData(row(0, "A"))+`}`)
		s.cmd(t, "reporting", `{"next":1736949600123455}`).want(t, `{"status":"OK","next":null,"data":[]}`)
	})
}

// The answer is written by hand for speed; it must be what an Object
// would encode to, escapes included.
func TestReportingEncoding(t *testing.T) {
	odd := []string{"plain", `q"uote`, `back\slash`, "<a&b>", "tab\t", "nul\x00", "é", "line\u2028sep", "bad\xff", ""}
	for _, s := range odd {
		want, _ := marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
	at := time.Date(2025, 1, 15, 14, 0, 0, 0, time.UTC)
	var evs []audit.Event
	for i, s := range odd {
		evs = append(evs, audit.Event{ID: int64(i + 1), Time: at, Type: "odd", Actor: s, IP: s, App: s})
	}
	for _, siem := range []bool{false, true} {
		for _, n := range []int{0, 1, len(evs)} {
			q := &reportQuery{siem: siem}
			var b bytes.Buffer
			if err := q.answer(evs[:n], at, time.UTC)(t.Context(), &b); err != nil {
				t.Fatal(err)
			}
			data, rows := Object{}, []Object{}
			for i, e := range evs[:n] {
				r := Describe(e, time.UTC)
				row := obj("Time", r.Time, "Username", r.Username, "IP_Address", r.IPAddress, "Action", r.Action, "Data", r.Data)
				rows = append(rows, append(row, Field{"ID", r.ID}))
				data = append(data, Field{"Event" + strconv.Itoa(i+1), row})
			}
			want, _ := marshal(obj("status", "OK", "next", at.UnixMicro(), "data", data))
			if siem {
				want, _ = marshal(obj("status", "OK", "next", at.UnixMicro(), "events", rows))
			}
			if b.String() != string(want) {
				t.Errorf("siem %v, %d events:\n%s\nwant\n%s", siem, n, b.String(), want)
			}
		}
	}
}

// BenchmarkReporting measures reporting over 1,000,000 events in SQLite, a
// day of them (about 41,700 an hour, 11.6 a second): one page of a one-hour
// window, with each filter, and every page of that hour through next.
// The events go in through SQL, in one statement (the store's Record takes
// minutes for a million), in the store's time format.
func BenchmarkReporting(b *testing.B) {
	path := filepath.Join(b.TempDir(), "gw.db")
	st, err := sqlite.Open(b.Context(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	db, err := sql.Open("sqlite", path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	// 2025-03-01 05:00:00 UTC (midnight in New York) + i × 86,400 µs.
	_, err = db.ExecContext(b.Context(), `WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM c WHERE i < 999999)
		INSERT INTO events (occurred_at, type, actor, subject, ip, app, outcome, details)
		SELECT strftime('%Y-%m-%dT%H:%M:%S', 1740805200 + i*86400/1000000, 'unixepoch') || '.' ||
			printf('%06d', (i*86400) % 1000000) || 'Z',
			CASE i%5 WHEN 0 THEN 'login.succeeded' WHEN 1 THEN 'login.failed' WHEN 2 THEN 'saml.sso'
				WHEN 3 THEN 'mfa.succeeded' ELSE 'user.updated' END,
			'user'||(i%1000)||'@example.com', 'user'||(i%1000)||'@example.com', '192.0.2.1', 'Grafana',
			'success', '{"factor":"totp"}' FROM c`)
	if err != nil {
		b.Fatal(err)
	}
	if err := st.CreateUser(b.Context(), &store.User{Email: "user7@example.com"}); err != nil {
		b.Fatal(err)
	}
	provhash, hash, err := NewSecret(testKey)
	if err != nil {
		b.Fatal(err)
	}
	if err := st.PutCredential(b.Context(), &store.Credential{Kind: store.CredentialEnterprise, Name: CredentialName, SecretHash: hash}); err != nil {
		b.Fatal(err)
	}
	h := &Handler{Store: st, Logger: slog.New(slog.DiscardHandler), CID: testCID, SecretKey: testKey, Limit: 1e9}
	call := func(data string) (next string, size int) {
		body := `{"cid":` + testCID + `,"provhash":"` + provhash + `","cmd":"reporting","data":` + data + `}`
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", Path, strings.NewReader(body)))
		// Only the head: decoding 2 MB would be the client's time, not ours.
		head, _, ok := strings.Cut(w.Body.String(), `,"data":`)
		if !ok {
			head, _, _ = strings.Cut(head, `,"events":`)
		}
		var p repPage
		if err := json.Unmarshal([]byte(head+"}"), &p); err != nil || p.Status != "OK" {
			b.Fatalf("%.300s: %v", w.Body.String(), err)
		}
		return p.Next.String(), w.Body.Len()
	}
	hour := `"from":"2025-03-01 12:00:00","to":"2025-03-01 12:59:59"`
	for _, bc := range []struct{ name, data string }{
		{"hour", `{` + hour + `}`},
		{"hour-siem", `{` + hour + `,"format":"siem"}`},
		{"hour-user", `{` + hour + `,"user":"user7@example.com"}`},
		{"hour-admin", `{` + hour + `,"admin":"1"}`},
		{"hour-search", `{` + hour + `,"search":"user7@"}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				call(bc.data)
			}
		})
	}
	b.Run("hour-next", func(b *testing.B) {
		pages := 0
		for b.Loop() {
			next := ""
			for {
				data := `{` + hour
				if next != "" {
					data += `,"next":` + next
				}
				pages++
				if next, _ = call(data + `}`); next == "" {
					break
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(pages), "ms/page")
	})
}

package enterprise

// reporting (lastpass-apis.md §2.11, §7). Decisions:
//   - from and to are "YYYY-MM-DD HH:MM:SS" in the reporting zone; to
//     includes its whole second (Splunk's windows end at :59 and the next
//     starts at :00). Either may be absent: no bound. In the hour repeated
//     when clocks go back, from takes the earlier instant and to the later,
//     so a window never misses events.
//   - user (in data, else top-level) is an email or "allusers"; absent is
//     allusers. A user's events are those they did and those about them (a
//     failed login has no actor, only the username tried). An email that is
//     no user: {"status":"FAIL","error":"Please select a valid user."}.
//   - admin "1" (or 1, or true) keeps the administrative events only: the
//     types actions.go marks admin (changes to the directory, folders, apps,
//     keys, secrets, and API calls), whoever made them.
//   - search is a case-insensitive substring of the actor, subject, app,
//     event type, reason or details.
//   - Events are newest first by time (then by ID), at most maxReportEvents
//     (10,000) a call, cut at a second boundary: a page never ends inside a
//     second that continues on the next page. next is then the time of the
//     newest event left, in microseconds since 1970 (a JSON number), and
//     the next call with next returns the events at or before it (§2.11).
//     Because pages end between seconds, Elastic's loop, which turns next
//     into a to with whole seconds (next/1000 formatted as a time, in its
//     own zone, which must be the reporting zone), asks for exactly the
//     same events; so both loops see each event once, and events recorded
//     meanwhile, being newer, do not shift the pages. next is null when
//     nothing is left. The one exception to the cap: when a single second
//     holds more than a page, that second comes whole, as a cursor inside
//     it could not be given back as a to.
//   - Default answer {"status":"OK","next":…,"data":{"Event1":{…},…}}, Event1
//     the newest, data [] when empty. format "siem" answers
//     {"status":"OK","next":…,"events":[{…,"ID":"…"},…]}: the same status and
//     next, so that a SIEM client pages the same way; every value a string.
//   - Each call records an api.reporting event ("Reporting", "Initiated by
//     API") before it reads, so no read goes unaudited.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/store"
)

func init() { commands["reporting"] = reporting }

// maxReportEvents is how many events one reporting call returns at most
// (§2.11); tests lower it.
var maxReportEvents = 10_000

// reportQuery is one reporting request, parsed.
type reportQuery struct {
	since, until time.Time         // until exclusive; zero: no bound
	filter       store.EventFilter // search and the admin types
	user         string            // only this user's events; "": everyone's
	siem         bool
}

func reporting(c *call) (any, error) {
	ctx := c.r.Context()
	q, details, msg := parseReporting(c)
	if msg != "" {
		return fail(msg), nil
	}
	if q.user != "" {
		u, err := c.h.Store.UserByEmail(ctx, q.user)
		if errors.Is(err, store.ErrNotFound) {
			return fail("Please select a valid user."), nil
		}
		if err != nil {
			return nil, err
		}
		q.user = u.Email
	}
	if err := c.h.Store.Record(ctx, c.event(EventReporting, "", details)); err != nil {
		return nil, err
	}
	evs, next, err := q.page(ctx, c.h.Store)
	if err != nil {
		return nil, err
	}
	return q.answer(evs, next, c.h.zone()), nil
}

// parseReporting reads the request's data; msg is the FAIL message of a
// bad one. details are the parameters, for the audit event.
func parseReporting(c *call) (q reportQuery, details map[string]string, msg string) {
	var d map[string]json.RawMessage
	if err := c.decodeData(&d); err != nil {
		return q, nil, err.Error()
	}
	v := map[string]string{"user": c.req.User}
	for _, k := range []string{"from", "to", "search", "user", "admin", "next", "format"} {
		if _, ok := d[k]; !ok {
			continue
		}
		s, err := scalar(d[k])
		if b, ok := map[string]string{"true": "1", "false": "0"}[string(d[k])]; ok && k == "admin" {
			s, err = b, nil
		}
		if err != nil {
			return q, nil, "Invalid data: " + k + " must be a string"
		}
		v[k] = strings.TrimSpace(s)
	}
	zone := c.h.zone()
	var err error
	if q.since, err = parseWall(v["from"], zone, false); err != nil {
		return q, nil, "Invalid from: want YYYY-MM-DD HH:MM:SS"
	}
	if q.until, err = parseWall(v["to"], zone, true); err != nil {
		return q, nil, "Invalid to: want YYYY-MM-DD HH:MM:SS"
	}
	if !q.until.IsZero() {
		q.until = q.until.Add(time.Second) // to includes its whole second
	}
	if v["next"] != "" {
		n, err := strconv.ParseInt(v["next"], 10, 64)
		if err != nil {
			return q, nil, "Invalid next: want the number a previous call returned"
		}
		if at := time.UnixMicro(n).Add(time.Microsecond); q.until.IsZero() || at.Before(q.until) {
			q.until = at // at or before next
		}
	}
	if u := v["user"]; !strings.EqualFold(u, "allusers") {
		q.user = u
	}
	if v["admin"] == "1" {
		q.filter.Types = adminTypes()
	}
	q.filter.Search = v["search"]
	q.siem = strings.EqualFold(v["format"], "siem")
	details = map[string]string{}
	for _, k := range []string{"from", "to", "user", "next"} {
		if v[k] != "" {
			details[k] = v[k]
		}
	}
	return q, details, ""
}

// parseWall reads a LastPass time in zone; "" is the zero time. A wall
// time that names two instants (the repeated hour) is the later one for
// the end of a window, else the earlier.
func parseWall(s string, zone *time.Location, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(timeLayout, s, zone)
	if err != nil {
		return t, err
	}
	for _, d := range []time.Duration{-time.Hour, time.Hour} {
		if alt := t.Add(d); alt.In(zone).Format(timeLayout) == s && alt.After(t) == end {
			t = alt
		}
	}
	return t, nil
}

// page returns the newest events of the window, at most maxReportEvents,
// ending at a second boundary, and the time of the newest event left (zero
// when none is).
func (q *reportQuery) page(ctx context.Context, st store.Store) ([]audit.Event, time.Time, error) {
	n := maxReportEvents
	evs, err := q.list(ctx, st, q.since, q.until, n+1)
	if err != nil || len(evs) <= n {
		return evs, time.Time{}, err
	}
	cut := evs[n].Time.Truncate(time.Second).Add(time.Second)
	k := 0
	for !evs[k].Time.Before(cut) {
		k++
	}
	if k > 0 {
		return evs[:k], evs[k].Time, nil
	}
	// The newest second alone holds more than a page: it comes whole.
	sec := cut.Add(-time.Second)
	if evs, err = q.list(ctx, st, later(q.since, sec), q.until, 0); err != nil {
		return nil, time.Time{}, err
	}
	rest, err := q.list(ctx, st, q.since, sec, 1)
	if err != nil || len(rest) == 0 {
		return evs, time.Time{}, err
	}
	return evs, rest[0].Time, nil
}

// list returns the events of [since, until) that the query selects, newest
// first by time, at most limit (0: all). A user's events are the union of
// those they did and those about them.
func (q *reportQuery) list(ctx context.Context, st store.Store, since, until time.Time, limit int) ([]audit.Event, error) {
	f := q.filter
	f.Since, f.Until, f.Limit, f.Order = since, until, limit, store.NewestByTime
	if q.user == "" {
		return st.ListEvents(ctx, f)
	}
	byUser, about := f, f
	byUser.Actor, about.Subject = q.user, q.user
	a, err := st.ListEvents(ctx, byUser)
	if err != nil {
		return nil, err
	}
	b, err := st.ListEvents(ctx, about)
	if err != nil {
		return nil, err
	}
	return mergeNewest(a, b, limit), nil
}

// mergeNewest merges two lists that are newest first by time then ID,
// keeping one copy of an event in both, up to limit (0: all).
func mergeNewest(a, b []audit.Event, limit int) []audit.Event {
	out := make([]audit.Event, 0, len(a)+len(b))
	for (len(a) > 0 || len(b) > 0) && (limit == 0 || len(out) < limit) {
		switch {
		case len(b) == 0 || len(a) > 0 && newer(a[0], b[0]):
			out, a = append(out, a[0]), a[1:]
		case len(a) == 0 || newer(b[0], a[0]):
			out, b = append(out, b[0]), b[1:]
		default: // the same event
			out, a, b = append(out, a[0]), a[1:], b[1:]
		}
	}
	return out
}

func newer(x, y audit.Event) bool {
	return x.Time.After(y.Time) || x.Time.Equal(y.Time) && x.ID > y.ID
}

// later is the later of two window starts; zero is no bound.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// answer writes the response body, default or SIEM format, as it is
// built: byte for byte what an Object would encode to (Event1…, [] for
// none), several times faster on a page of 10,000 events.
func (q *reportQuery) answer(evs []audit.Event, next time.Time, zone *time.Location) streamed {
	return func(_ context.Context, w io.Writer) error {
		b := append(make([]byte, 0, 64<<10), `{"status":"OK","next":`...)
		if next.IsZero() {
			b = append(b, "null"...)
		} else {
			b = strconv.AppendInt(b, next.UnixMicro(), 10)
		}
		switch {
		case q.siem:
			b = append(b, `,"events":[`...)
		case len(evs) == 0:
			b = append(b, `,"data":[`...)
		default:
			b = append(b, `,"data":{`...)
		}
		for i, e := range evs {
			if i > 0 {
				b = append(b, ',')
			}
			if !q.siem {
				b = strconv.AppendInt(append(b, `"Event`...), int64(i+1), 10)
				b = append(b, `":`...)
			}
			b = appendRow(b, Describe(e, zone), q.siem)
			if len(b) > 48<<10 {
				if _, err := w.Write(b); err != nil {
					return err
				}
				b = b[:0]
			}
		}
		if q.siem || len(evs) == 0 {
			b = append(b, "]}"...)
		} else {
			b = append(b, "}}"...)
		}
		_, err := w.Write(b)
		return err
	}
}

// appendRow appends r as a JSON object: §7.1's fields, and ID for SIEM.
func appendRow(b []byte, r Row, withID bool) []byte {
	for i, f := range [...]struct{ k, v string }{{`{"Time":`, r.Time}, {`,"Username":`, r.Username},
		{`,"IP_Address":`, r.IPAddress}, {`,"Action":`, r.Action}, {`,"Data":`, r.Data}, {`,"ID":`, r.ID}} {
		if i == 5 && !withID {
			break
		}
		b = appendString(append(b, f.k...), f.v)
	}
	return append(b, '}')
}

// appendString appends s as a JSON string, as marshal writes it.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			v, _ := marshal(s) // a string always encodes
			return append(b, v...)
		}
	}
	return append(append(append(b, '"'), s...), '"')
}

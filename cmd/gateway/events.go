package main

// gateway events exports the audit trail for a SIEM. Decisions:
//   - Oldest first, by time then ID, streamed: the store is read a page at
//     a time by keyset (each page starts at the time of the first event the
//     previous one left, and a page never ends inside a microsecond), so
//     memory does not grow with the trail.
//   - --since and --until take an RFC 3339 time (2025-01-15T09:00:00Z, with
//     an offset or fraction as wanted), a date (2025-01-15, UTC midnight),
//     or a duration back from now (90m, 24h, 7d). --since is inclusive and
//     defaults to the beginning; --until is exclusive and defaults to the
//     moment the command starts, so an export ends while events keep coming.
//   - --format jsonl writes one JSON object per line (--json says the same):
//     the reporting API's SIEM fields (Time in enterprise.time_zone,
//     Username, IP_Address, Action, Data, ID), then Type, Outcome and
//     Timestamp (RFC 3339 in UTC, to the microsecond). --format text (the
//     default) writes the same as tab-separated columns: Timestamp,
//     Username, IP_Address, Action, Data, Outcome.

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/enterprise"
	"github.com/portcullis/portcullis/store"
)

// eventsPage is how many events one store call reads.
var eventsPage = 1000

func (c *cli) events(ctx context.Context, args []string) error {
	fs := c.flags("events")
	since := fs.String("since", "", "first time: RFC 3339, a date, or a duration ago (24h, 7d)")
	until := fs.String("until", "", "end (exclusive), as --since; default now")
	format := fs.String("format", "text", "jsonl or text")
	asJSON := fs.Bool("json", false, "same as --format jsonl")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	now := time.Now()
	from, err := parseWhen(*since, now)
	if err != nil {
		return usagef("events --since: %v", err)
	}
	to, err := parseWhen(*until, now)
	if err != nil {
		return usagef("events --until: %v", err)
	}
	if to.IsZero() {
		to = now
	}
	if *asJSON {
		if flagSet(fs, "format") && *format != "jsonl" {
			return usagef("events: --json and --format %s disagree", *format)
		}
		*format = "jsonl"
	}
	if *format != "jsonl" && *format != "text" {
		return usagef("events --format: want jsonl or text, got %q", *format)
	}
	st, cfg, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	zone, err := time.LoadLocation(cfg.Enterprise.TimeZone)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(c.stdout)
	write := eventWriter(w, *format, zone)
	if err := walkEvents(ctx, st, from, to, func(e audit.Event) error { return write(e) }); err != nil {
		w.Flush()
		return err
	}
	return w.Flush()
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// parseWhen reads --since/--until; "" is the zero time.
func parseWhen(s string, now time.Time) (time.Time, error) {
	switch {
	case s == "":
		return time.Time{}, nil
	case strings.HasSuffix(s, "d"):
		if n, err := strconv.Atoi(strings.TrimSuffix(s, "d")); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("want an RFC 3339 time, a date or a duration such as 24h or 7d, got %q", s)
}

// walkEvents calls fn for each event of [since, until), oldest first.
func walkEvents(ctx context.Context, st store.Store, since, until time.Time, fn func(audit.Event) error) error {
	for {
		f := store.EventFilter{Since: since, Until: until, Order: store.OldestByTime, Limit: eventsPage + 1}
		evs, err := st.ListEvents(ctx, f)
		if err != nil {
			return err
		}
		more := len(evs) > eventsPage
		if more {
			// The next page starts at the first event left, with the
			// events of its microsecond, which this page leaves too.
			since = evs[eventsPage].Time
			k := eventsPage
			for k > 0 && evs[k-1].Time.Equal(since) {
				k--
			}
			evs = evs[:k]
			if k == 0 { // one microsecond holds more than a page: read it whole
				f.Since, f.Until, f.Limit = since, since.Add(time.Microsecond), 0
				if evs, err = st.ListEvents(ctx, f); err != nil {
					return err
				}
				since = f.Until
			}
		}
		for _, e := range evs {
			if err := fn(e); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
	}
}

// eventLine is an event as jsonl writes it.
type eventLine struct {
	Time      string `json:"Time"`
	Username  string `json:"Username"`
	IPAddress string `json:"IP_Address"`
	Action    string `json:"Action"`
	Data      string `json:"Data"`
	ID        string `json:"ID"`
	Type      string `json:"Type"`
	Outcome   string `json:"Outcome"`
	Timestamp string `json:"Timestamp"`
}

// eventWriter returns a function that writes one event in format.
func eventWriter(w io.Writer, format string, zone *time.Location) func(audit.Event) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return func(e audit.Event) error {
		r := enterprise.Describe(e, zone)
		ts := e.Time.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
		if format == "text" {
			_, err := fmt.Fprintln(w, strings.Join([]string{ts, oneLine(r.Username), oneLine(r.IPAddress), r.Action, oneLine(r.Data), e.Outcome}, "\t"))
			return err
		}
		return enc.Encode(eventLine{Time: r.Time, Username: r.Username, IPAddress: r.IPAddress, Action: r.Action,
			Data: r.Data, ID: r.ID, Type: e.Type, Outcome: e.Outcome, Timestamp: ts})
	}
}

// oneLine keeps a text column on its line and in its column (a username
// that failed to log in is anyone's text).
func oneLine(s string) string {
	return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(s)
}

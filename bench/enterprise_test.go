package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/bench"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/sqlite"
)

// Sizes of the Enterprise API benchmarks (issue 7's targets).
const (
	enterpriseBatchUsers = 10_000
	enterpriseDirectory  = 100_000
	enterpriseEvents     = 1_000_000
	enterprisePage       = 10_000 // reporting's events per call (§2.11)
)

// enterpriseServer opens a fresh SQLite store in dir and serves
// enterprise.Handler on it; both close when b ends.
func enterpriseServer(b *testing.B, dir string) (store.Store, *bench.Enterprise, string) {
	b.Helper()
	file := filepath.Join(dir, "gw.db")
	st, err := sqlite.Open(context.Background(), file)
	if err != nil {
		b.Fatal(err)
	}
	e, err := bench.ServeEnterprise(context.Background(), st)
	if err != nil {
		st.Close()
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close(); st.Close() })
	return st, e, file
}

// BenchmarkEnterpriseBatchAdd is one batchadd of 10,000 new users without
// passwords (each with a fullname, one of 50 groups and two attributes,
// about 1.5 MB of JSON), on an empty SQLite store, from the first byte
// sent to the last byte of the answer. Target: under 3 s.
func BenchmarkEnterpriseBatchAdd(b *testing.B) {
	data := bench.BatchAddData(enterpriseBatchUsers)
	b.SetBytes(int64(len(data)))
	var body bytes.Buffer
	var cpu time.Duration
	for range b.N {
		b.StopTimer()
		st, e, _ := enterpriseServer(b, b.TempDir())
		body.Reset()
		b.StartTimer()
		cpu0 := bench.CPUTime()
		status, _, err := e.Post("batchadd", data, &body)
		cpu += bench.CPUTime() - cpu0
		b.StopTimer()
		if err != nil || status != 200 || body.String() != `{"status":"OK"}` {
			b.Fatalf("batchadd: %d %.300s (%v)", status, body.String(), err)
		}
		if _, total, err := st.ListUsers(context.Background(), store.UserFilter{}); err != nil || total != enterpriseBatchUsers {
			b.Fatalf("%d users after the batch (%v), want %d", total, err, enterpriseBatchUsers)
		}
		last, err := st.UserByEmail(context.Background(), bench.EnterpriseUser(enterpriseBatchUsers-1))
		if err != nil || last.Attributes["uid"] != fmt.Sprintf("u%06d", enterpriseBatchUsers-1) {
			b.Fatalf("the last user: %+v (%v)", last, err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(enterpriseBatchUsers)*float64(b.N)/b.Elapsed().Seconds(), "users/s")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}

// BenchmarkEnterpriseGetUserData is getuserdata without pagesize on a
// directory of 100,000 users in 50 groups (a third with TOTP, half signed
// in): one answer of every user, streamed. ns/op is from the request to
// the last byte of the answer; the client only counts the users as the
// bytes go by (checkUserStream), so that it holds none of them. The
// memory figures are MeasureMemory's (bench/enterprise.go): the Go heap
// sampled every 2 ms, and the process's VmHWM with the mark reset just
// before the call; both are the whole benchmark process, client and store
// included. Targets: under 2 s, peak under 150 MB.
func BenchmarkEnterpriseGetUserData(b *testing.B) {
	st, e, file := enterpriseServer(b, b.TempDir())
	took, err := bench.SeedEnterpriseUsers(context.Background(), st, enterpriseDirectory)
	if err == nil {
		err = bench.Checkpoint(context.Background(), file)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d users (50 groups, %d TOTP) through the store in one transaction in %v",
		enterpriseDirectory, (enterpriseDirectory+2)/3, took.Round(time.Millisecond))
	verifyUserData(b, e)
	b.Run("all", func(b *testing.B) {
		var worst bench.Memory
		var size int64
		var cpu time.Duration
		for range b.N {
			b.StopTimer()
			check := &checkUserStream{}
			b.StartTimer()
			mem, err := bench.MeasureMemory(2*time.Millisecond, func() error {
				cpu0 := bench.CPUTime()
				status, n, err := e.Post("getuserdata", "", check)
				cpu += bench.CPUTime() - cpu0
				size = n
				if err == nil && status != 200 {
					err = fmt.Errorf("status %d", status)
				}
				return err
			})
			b.StopTimer()
			if err == nil {
				err = check.verify(enterpriseDirectory)
			}
			if err != nil {
				b.Fatal(err)
			}
			worst.HeapBefore, worst.RSSBefore = max(worst.HeapBefore, mem.HeapBefore), max(worst.RSSBefore, mem.RSSBefore)
			worst.HeapPeak, worst.RSSPeak = max(worst.HeapPeak, mem.HeapPeak), max(worst.RSSPeak, mem.RSSPeak)
			b.StartTimer()
		}
		const mb = 1 << 20
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
		b.ReportMetric(float64(size)/mb, "body-MB")
		b.ReportMetric(float64(worst.HeapPeak)/mb, "peak-heap-MB")
		b.ReportMetric(float64(worst.HeapPeak-min(worst.HeapPeak, worst.HeapBefore))/mb, "heap-growth-MB")
		b.ReportMetric(float64(worst.RSSBefore)/mb, "rss-before-MB")
		b.ReportMetric(float64(worst.RSSPeak)/mb, "peak-rss-MB")
	})
}

// verifyUserData decodes one whole getuserdata answer, untimed: every user
// once, each group with its members, counts exact.
func verifyUserData(b *testing.B, e *bench.Enterprise) {
	b.Helper()
	var body bytes.Buffer
	status, _, err := e.Post("getuserdata", "", &body)
	if err != nil || status != 200 {
		b.Fatalf("getuserdata: %d (%v) %.300s", status, err, body.String())
	}
	var answer struct {
		Total, Count int
		Users        map[string]struct {
			Username string   `json:"username"`
			Groups   []string `json:"groups"`
		}
		Groups map[string][]string
	}
	if err := json.Unmarshal(body.Bytes(), &answer); err != nil {
		b.Fatalf("getuserdata: %v", err)
	}
	members := 0
	for _, m := range answer.Groups {
		members += len(m)
	}
	if answer.Total != enterpriseDirectory || answer.Count != enterpriseDirectory || len(answer.Users) != enterpriseDirectory ||
		len(answer.Groups) != bench.EnterpriseGroups || members != enterpriseDirectory {
		b.Fatalf("getuserdata: total %d count %d, %d users, %d groups with %d members", answer.Total, answer.Count,
			len(answer.Users), len(answer.Groups), members)
	}
}

// checkUserStream counts the users of a getuserdata answer as it streams
// by, holding only the start of the answer and its last few bytes.
type checkUserStream struct {
	head  []byte
	tail  []byte // the last len(usernameKey)-1 bytes so far
	edge  [2 * 16]byte
	users int
}

var usernameKey = []byte(`"username":"`)

func (c *checkUserStream) Write(p []byte) (int, error) {
	if len(c.head) < 64 {
		c.head = append(c.head, p[:min(len(p), 64-len(c.head))]...)
	}
	k := len(usernameKey) - 1
	c.users += bytes.Count(p, usernameKey)
	// A key that straddles the last write and this one lies in the old
	// tail and the first k bytes of p, and only such a key fits there.
	edge := append(append(c.edge[:0], c.tail...), p[:min(len(p), k)]...)
	c.users += bytes.Count(edge, usernameKey)
	if len(p) >= k {
		c.tail = append(c.tail[:0], p[len(p)-k:]...)
	} else {
		joined := append(append(c.edge[:0], c.tail...), p...)
		c.tail = append(c.tail[:0], joined[max(0, len(joined)-k):]...)
	}
	return len(p), nil
}

func (c *checkUserStream) verify(n int) error {
	want := `{"total":` + strconv.Itoa(n) + `,"count":` + strconv.Itoa(n) + `,"Users":{"`
	switch {
	case !strings.HasPrefix(string(c.head), want):
		return fmt.Errorf("getuserdata begins %q", c.head)
	case c.users != n:
		return fmt.Errorf("getuserdata streamed %d users, want %d", c.users, n)
	case !bytes.HasSuffix(c.tail, []byte("]}}")):
		return fmt.Errorf("getuserdata ends %q", c.tail)
	}
	return nil
}

// BenchmarkEnterpriseReporting is reporting over 1,000,000 events (a day of
// them, about 41,700 an hour, written straight into SQLite's events table)
// with a one-hour window: "window" is the first page of the hour (10,000
// events, from the request to the last byte of the answer), "next" all the
// pages of the hour followed through next (ns/op the whole hour; ms/page
// its mean, max-ms/page its slowest). Every page is decoded and checked,
// untimed: status OK, the page's size, newest first, inside the window,
// and over the hour every event exactly once. Target: a page under 100 ms.
func BenchmarkEnterpriseReporting(b *testing.B) {
	_, e, file := enterpriseServer(b, b.TempDir())
	took, err := bench.SeedEvents(context.Background(), file, enterpriseEvents)
	if err == nil {
		err = bench.Checkpoint(context.Background(), file)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d events with multi-row INSERTs in one transaction in %v", enterpriseEvents, took.Round(time.Millisecond))
	// 12:00:00–12:59:59 in New York, the default reporting zone.
	from := bench.EventsStart.Add(12 * time.Hour)
	window := `"from":"2025-01-15 12:00:00","to":"2025-01-15 12:59:59"`
	inHour := bench.EventsIn(enterpriseEvents, from, from.Add(time.Hour))
	b.Logf("%d events in the hour", inHour)

	b.Run("window", func(b *testing.B) {
		var body bytes.Buffer
		var cpu time.Duration
		for range b.N {
			body.Reset()
			cpu0 := bench.CPUTime()
			status, _, err := e.Post("reporting", "{"+window+"}", &body)
			cpu += bench.CPUTime() - cpu0
			b.StopTimer()
			p, err := decodeReport(status, body.Bytes(), err)
			if err == nil {
				err = p.check(from, inHour)
			}
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	})

	b.Run("next", func(b *testing.B) {
		var body bytes.Buffer
		var pages int
		var slowest, all, cpu time.Duration
		for range b.N {
			next, seen := "", 0
			for {
				data := "{" + window
				if next != "" {
					data += `,"next":` + next
				}
				body.Reset()
				start, cpu0 := time.Now(), bench.CPUTime()
				status, _, err := e.Post("reporting", data+"}", &body)
				took := time.Since(start)
				cpu += bench.CPUTime() - cpu0
				b.StopTimer()
				p, err := decodeReport(status, body.Bytes(), err)
				if err == nil {
					err = p.check(from, inHour-seen)
				}
				if err != nil {
					b.Fatalf("page %d: %v", pages+1, err)
				}
				pages, all, slowest = pages+1, all+took, max(slowest, took)
				seen += len(p.Data)
				b.StartTimer()
				if p.Next == nil {
					break
				}
				next = p.Next.String()
			}
			if seen != inHour {
				b.Fatalf("followed next through %d events, want the %d of the hour", seen, inHour)
			}
		}
		b.ReportMetric(float64(pages)/float64(b.N), "pages/op")
		b.ReportMetric(float64(all.Microseconds())/1000/float64(pages), "ms/page")
		b.ReportMetric(float64(slowest.Microseconds())/1000, "max-ms/page")
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(pages), "cpu-ms/page")
	})
}

// reportPage is a reporting answer as the checks read it.
type reportPage struct {
	Status string
	Next   *json.Number
	Data   map[string]struct{ Time string }
}

func decodeReport(status int, body []byte, err error) (reportPage, error) {
	var p reportPage
	if err != nil {
		return p, err
	}
	if status != 200 {
		return p, fmt.Errorf("status %d: %.300s", status, body)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("%v: %.300s", err, body)
	}
	return p, nil
}

// check asserts the page: OK; when more is left, a next and at most a
// page of events (fewer when the page ends before a second that goes on,
// §2.11), else exactly left and no next; Event1…EventN newest first and
// inside the hour from from.
func (p reportPage) check(from time.Time, left int) error {
	more := left > enterprisePage
	n := len(p.Data)
	if p.Status != "OK" || (p.Next != nil) != more || more && (n == 0 || n > enterprisePage) || !more && n != left {
		return fmt.Errorf("status %q, %d events (%d left), next %v", p.Status, n, left, p.Next)
	}
	zone, err := time.LoadLocation("America/New_York")
	if err != nil {
		return err
	}
	prev := ""
	for i := 1; i <= n; i++ {
		ev, ok := p.Data["Event"+strconv.Itoa(i)]
		if !ok {
			return fmt.Errorf("no Event%d", i)
		}
		t, err := time.ParseInLocation("2006-01-02 15:04:05", ev.Time, zone)
		if err != nil || t.Before(from) || !t.Before(from.Add(time.Hour)) || prev != "" && ev.Time > prev {
			return fmt.Errorf("Event%d at %q (after %q), outside the hour or out of order", i, ev.Time, prev)
		}
		prev = ev.Time
	}
	return nil
}

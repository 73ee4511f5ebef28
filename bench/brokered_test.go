package bench_test

import (
	"context"
	"encoding/xml"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/bench"
	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/sp"
	"github.com/portcullis/portcullis/store"
)

var brokeredModes = []struct {
	name string
	mode bench.Mode
}{
	{"unsolicited", bench.Unsolicited},
	{"acs+resume", bench.ACSAndResume},
	{"solicited", bench.Solicited},
}

func brokered(tb testing.TB) *bench.Brokered {
	tb.Helper()
	f, err := bench.NewBrokered(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return f
}

// trustGateway gives the app the gateway's IdP metadata.
func trustGateway(t *testing.T, f *bench.Brokered) {
	t.Helper()
	w := httptest.NewRecorder()
	f.Handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "https://sso.example.com"+idp.MetadataPath, nil))
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(w.Body.Bytes(), &ed); err != nil || w.Code != http.StatusOK {
		t.Fatalf("IdP metadata: %d, %v", w.Code, err)
	}
	f.App.IDPMetadata = &ed
}

var samlResponseField = regexp.MustCompile(`name="SAMLResponse" value="([^"]+)"`)

// TestBrokeredLogin runs one login of each mode and has the app, a crewjam
// SP, accept the Response that comes out: so a benchmark of the fixture
// times real sign-ins, brokered the way its mode says.
func TestBrokeredLogin(t *testing.T) {
	f := brokered(t)
	trustGateway(t, f)
	for _, m := range brokeredModes {
		t.Run(m.name, func(t *testing.T) {
			ids, err := f.Prepare(1, m.mode)
			if err != nil {
				t.Fatal(err)
			}
			page, err := f.DoPage()
			if m.mode == bench.Solicited {
				if page != "" || err != nil {
					t.Fatalf("solicited login finished before the upstream signed (%v)", err)
				}
				if err := f.Sign(); err != nil {
					t.Fatal(err)
				}
				page, err = f.DoPage()
			}
			if err != nil {
				t.Fatal(err)
			}
			checkAppResponse(t, f, page, ids)
			checkUpstreamLogin(t, f, m.mode == bench.Solicited)
			if err := f.Do(); err == nil {
				t.Error("Do succeeded with no prepared login left")
			}
		})
	}
}

// checkAppResponse has the app validate the Response on page (signature,
// InResponseTo, audience, times) and wants the user's NameID.
func checkAppResponse(t *testing.T, f *bench.Brokered, page string, ids []string) {
	t.Helper()
	m := samlResponseField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no SAMLResponse on the page:\n%s", page)
	}
	form := url.Values{"SAMLResponse": {html.UnescapeString(m[1])}}
	r := httptest.NewRequest(http.MethodPost, f.App.AcsURL.String(), strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := r.ParseForm(); err != nil {
		t.Fatal(err)
	}
	a, err := f.App.ParseResponse(r, ids)
	if err != nil {
		t.Fatalf("the app refused the Response: %v", err)
	}
	if got := a.Subject.NameID.Value; got != "ada@example.com" {
		t.Errorf("NameID %q, want ada@example.com", got)
	}
}

// checkUpstreamLogin wants the latest sp.login event a success, solicited
// or not as asked.
func checkUpstreamLogin(t *testing.T, f *bench.Brokered, solicited bool) {
	t.Helper()
	ev, err := f.Store.ListEvents(context.Background(), store.EventFilter{Types: []string{sp.EventLogin}, Limit: 1})
	if err != nil || len(ev) != 1 {
		t.Fatalf("sp.login events: %v, %v", ev, err)
	}
	want := strconv.FormatBool(solicited)
	if ev[0].Outcome != audit.Success || ev[0].Details["solicited"] != want {
		t.Errorf("sp.login %s, solicited %q; want success, %q", ev[0].Outcome, ev[0].Details["solicited"], want)
	}
}

// BenchmarkBrokered is one brokered login on every core, its inputs made
// before the timer: for -cpuprofile (keep only the timed logins with
// pprof's -focus 'Brokered..step').
func BenchmarkBrokered(b *testing.B) {
	for _, m := range brokeredModes[:2] { // solicited stops halfway: BenchmarkBrokeredVersusCeiling
		b.Run(m.name, func(b *testing.B) {
			f := brokered(b)
			if _, err := f.Prepare(b.N, m.mode); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := f.Do(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkBrokeredVersusCeiling measures brokered logins and the ceiling
// (one RSA-2048 verification and one signature) in one run, with as many
// workers as cores, alternating in ten rounds, and reports logins/s as a
// fraction of the ceiling's rate; and, less disturbed by a busy machine,
// the process's CPU time per login and per ceiling operation, and their
// ratio. Each round's inputs (the app's requests, the upstream's
// signatures) are made with the timer stopped; solicited, the upstream
// signs between the two halves of the round.
func BenchmarkBrokeredVersusCeiling(b *testing.B) {
	for _, m := range brokeredModes {
		b.Run(m.name, func(b *testing.B) { versusCeiling(b, m.mode) })
	}
}

func versusCeiling(b *testing.B, m bench.Mode) {
	f := brokered(b)
	ceiling, err := f.Ceiling()
	if err != nil {
		b.Fatal(err)
	}
	workers := runtime.GOMAXPROCS(0)
	per := max(b.N/rounds, 50)
	var logins, ceil bench.Result
	var loginCPU, ceilCPU time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for range rounds {
		b.StopTimer()
		r, cpu, err := runCPUOf(per, workers, ceiling)
		if err == nil {
			ceil.Add(r)
			ceilCPU += cpu
			_, err = f.Prepare(per, m)
		}
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if r, cpu, err = runLogins(b, f, per, workers, m); err != nil {
			b.Fatal(err)
		}
		logins.Add(r)
		loginCPU += cpu
	}
	b.StopTimer()
	reportVersus(b, logins, ceil, loginCPU, ceilCPU)
}

// reportVersus reports the rates, the CPU times per operation, the ratios
// and, when there are any, the logins' latencies.
func reportVersus(b *testing.B, logins, ceil bench.Result, loginCPU, ceilCPU time.Duration) {
	perLogin := float64(loginCPU.Microseconds()) / float64(logins.Ops)
	perCeil := float64(ceilCPU.Microseconds()) / float64(ceil.Ops)
	b.ReportMetric(logins.PerSecond(), "logins/s")
	b.ReportMetric(ceil.PerSecond(), "ceiling/s")
	b.ReportMetric(logins.PerSecond()/ceil.PerSecond(), "ratio")
	b.ReportMetric(perLogin, "cpu-µs/login")
	b.ReportMetric(perCeil, "cpu-µs/ceiling")
	b.ReportMetric(perCeil/perLogin, "cpu-ratio")
	if len(logins.Latencies) > 0 {
		b.ReportMetric(float64(logins.Percentile(50).Microseconds()), "p50-µs")
		b.ReportMetric(float64(logins.Percentile(99).Microseconds()), "p99-µs")
	}
}

// runLogins runs per prepared logins and returns the process's CPU time
// they took. Solicited, they run in two halves with the upstream's signing
// between, untimed; a login's latency is then split in two, so none is
// kept.
func runLogins(b *testing.B, f *bench.Brokered, per, workers int, m bench.Mode) (bench.Result, time.Duration, error) {
	r, cpu, err := runCPUOf(per, workers, f.Do)
	if err != nil || m != bench.Solicited {
		return r, cpu, err
	}
	b.StopTimer()
	err = f.Sign()
	b.StartTimer()
	if err != nil {
		return r, cpu, err
	}
	r2, cpu2, err := runCPUOf(per, workers, f.Do)
	return bench.Result{Ops: per, Elapsed: r.Elapsed + r2.Elapsed}, cpu + cpu2, err
}

// runCPUOf is bench.Run that also returns the process's CPU time.
func runCPUOf(n, workers int, op func() error) (bench.Result, time.Duration, error) {
	cpu := bench.CPUTime()
	r, err := bench.Run(n, workers, op)
	return r, bench.CPUTime() - cpu, err
}

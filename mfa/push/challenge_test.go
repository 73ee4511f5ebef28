package push

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image/png"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/mfa/mfatest"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/session/memory"
	"github.com/portcullis/portcullis/session/redis"
	"github.com/portcullis/portcullis/session/sessiontest"
	"github.com/portcullis/portcullis/store"
)

// newTestFactor is the factor on an mfatest node's core (a real SQLite
// store, for audit events) and the given session backend, with a clock the
// test moves. The tests call it directly: it is not mounted.
func newTestFactor(t *testing.T, replay session.Store, clk *sessiontest.ManualClock) *Factor {
	t.Helper()
	env := mfatest.New(t, mfatest.Options{Replay: replay, Clock: clk,
		MaxFailuresPerUser: 10, MaxFailuresPerIP: 50, FailureWindow: time.Minute})
	var f *Factor
	env.Node(func(core *mfa.Handler) { f = New(core, Options{}) })
	return f
}

func attempt(userID int64, sess, cont string) *mfa.Attempt {
	return &mfa.Attempt{Session: &session.Session{ID: sess}, User: store.User{ID: userID, Email: "u" + strconv.FormatInt(userID, 10) + "@example.com"},
		Token: cont, Cont: mfa.Continuation{App: "Wiki"}}
}

func backends(t *testing.T, clk *sessiontest.ManualClock) map[string]session.Store {
	mr := miniredis.RunT(t)
	rs, err := redis.New(context.Background(), "redis://"+mr.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	return map[string]session.Store{"memory": memory.New(memory.WithNow(clk.Now)), "miniredis": rs}
}

// TestPendingLimitUnderRace opens pushes for one user from many goroutines
// at once: exactly MaxPending succeed and the index holds exactly those.
func TestPendingLimitUnderRace(t *testing.T) {
	clk := sessiontest.NewManualClock(time.Now())
	for name, replay := range backends(t, clk) {
		t.Run(name, func(t *testing.T) {
			f := newTestFactor(t, replay, clk)
			r := httptest.NewRequest("GET", "/mfa/push", nil)
			var mu sync.Mutex
			var opened []string
			var wg sync.WaitGroup
			for i := range 12 {
				wg.Go(func() {
					c, created, err := f.open(r, attempt(7, "s", "cont-"+strconv.Itoa(i)), "192.0.2.1")
					switch {
					case err == nil && created:
						mu.Lock()
						opened = append(opened, c.ID)
						mu.Unlock()
					case !errors.Is(err, errBusy):
						t.Errorf("open: %v (created %v)", err, created)
					}
				})
			}
			wg.Wait()
			if len(opened) != DefaultMaxPending {
				t.Fatalf("%d pushes opened, want %d", len(opened), DefaultMaxPending)
			}
			live, err := f.pending(r, 7)
			if err != nil || len(live) != DefaultMaxPending {
				t.Fatalf("pending = %d, %v", len(live), err)
			}
			for _, c := range live {
				if !strings.Contains(strings.Join(opened, " "), c.ID) {
					t.Errorf("index holds %s, which nobody opened", c.ID)
				}
			}
		})
	}
}

// TestExpiryWithClock moves a fake clock past a push's expiry: it stops
// counting toward the limit, answers report it expired, and the expiry is
// audited once however many requests see it.
func TestExpiryWithClock(t *testing.T) {
	clk := sessiontest.NewManualClock(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))
	replay := memory.New(memory.WithNow(clk.Now))
	f := newTestFactor(t, replay, clk)
	r := httptest.NewRequest("GET", "/mfa/push", nil)
	var first *challenge
	for i := range DefaultMaxPending {
		c, _, err := f.open(r, attempt(9, "s", "cont-"+strconv.Itoa(i)), "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = c
		}
	}
	if _, _, err := f.open(r, attempt(9, "s", "cont-x"), "192.0.2.1"); !errors.Is(err, errBusy) {
		t.Fatalf("open over the limit: %v", err)
	}
	clk.Advance(DefaultChallengeTTL - time.Second)
	if live, _ := f.pending(r, 9); len(live) != DefaultMaxPending {
		t.Fatalf("%d live a second before expiry", len(live))
	}
	clk.Advance(time.Second)
	for range 3 {
		if live, err := f.pending(r, 9); err != nil || len(live) != 0 {
			t.Fatalf("live after expiry: %d, %v", len(live), err)
		}
	}
	c, _, err := f.load(r.Context(), first.ID)
	if err != nil || c.State != StateExpired {
		t.Fatalf("challenge after expiry: %+v, %v", c, err)
	}
	dev := &device{id: "1.x", user: store.User{ID: 9}}
	if aerr := f.decide(httptest.NewRecorder(), r, dev, first.ID, AnswerRequest{Decision: Approve, Number: first.Number}); aerr == nil || aerr.code != CodeExpired {
		t.Fatalf("answer after expiry: %v", aerr)
	}
	evs, err := f.core.Store.ListEvents(r.Context(), store.EventFilter{Types: []string{mfa.EventPushExpired}})
	if err != nil || len(evs) != DefaultMaxPending {
		t.Fatalf("%d expiry events (%v), want one per push", len(evs), err)
	}
	if _, created, err := f.open(r, attempt(9, "s", "cont-x"), "192.0.2.1"); err != nil || !created {
		t.Fatalf("open after expiry: %v", err)
	}
}

// TestAnswerRace sends one approval from many goroutines: one wins.
func TestAnswerRace(t *testing.T) {
	clk := sessiontest.NewManualClock(time.Now())
	for name, replay := range backends(t, clk) {
		t.Run(name, func(t *testing.T) {
			f := newTestFactor(t, replay, clk)
			r := httptest.NewRequest("POST", "/push/v1/challenges/x", nil)
			c, _, err := f.open(r, attempt(3, "s", "c"), "192.0.2.1")
			if err != nil {
				t.Fatal(err)
			}
			dev := &device{id: "1.x", user: store.User{ID: 3}, enrolment: store.Enrolment{ID: 1, UserID: 3}}
			var wg sync.WaitGroup
			var mu sync.Mutex
			wins := 0
			for range 8 {
				wg.Go(func() {
					w := httptest.NewRecorder()
					aerr := f.decide(w, r, dev, c.ID, AnswerRequest{Decision: Approve, Number: c.Number})
					mu.Lock()
					defer mu.Unlock()
					switch {
					case aerr == nil && w.Code == 200:
						wins++
					case aerr == nil || aerr.code != CodeAnswered:
						t.Errorf("loser got %v", aerr)
					}
				})
			}
			wg.Wait()
			if wins != 1 {
				t.Fatalf("%d approvals won, want 1", wins)
			}
		})
	}
}

func TestNumberRange(t *testing.T) {
	seen := map[int]bool{}
	for range 5000 {
		n := newNumber()
		if n < 10 || n > 99 {
			t.Fatalf("number %d", n)
		}
		seen[n] = true
	}
	if len(seen) != 90 {
		t.Errorf("%d of 90 numbers drawn in 5000 draws", len(seen))
	}
}

// TestDeviceViewHasNoNumber: the device's (and webhook's) view of a push
// carries no number.
func TestDeviceViewHasNoNumber(t *testing.T) {
	c := &challenge{ID: "id", Email: "a@example.com", Number: 42, Session: "s", Cont: "c", State: StatePending}
	b, _ := json.Marshal(c.view())
	if bytes.Contains(b, []byte("42")) || bytes.Contains(b, []byte(`"s"`)) {
		t.Errorf("view = %s", b)
	}
}

// TestSigningString pins the canonical form: devices in other languages
// implement it from PROTOCOL.md, so it must never change silently.
func TestSigningString(t *testing.T) {
	got := SigningString("POST", "/gw/push/v1/challenges/abc?x=1", 1700000000, "12.dev", "nonce", []byte(`{"decision":"deny"}`))
	want := "portcullis-push-v1\nPOST\n/push/v1/challenges/abc?x=1\n1700000000\n12.dev\nnonce\n" +
		"dwsqhLQ7DXtZ7KpPNZbQ8ih80zD913tytu6BQD_I41Y\n"
	if string(got) != want {
		t.Errorf("signing string:\n%q\nwant\n%q", got, want)
	}
	empty := SigningString("GET", "/push/v1/challenges", 1, "", "n", nil)
	if !strings.HasSuffix(string(empty), "\n\nn\n47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU\n") {
		t.Errorf("empty body: %q", empty)
	}
}

func TestParseLink(t *testing.T) {
	for link, want := range map[string][2]string{
		"https://sso.example.com/push/v1/enrol#tok":        {"https://sso.example.com", "tok"},
		" https://example.com/gw/push/v1/enrol#t2 ":        {"https://example.com/gw", "t2"},
		"http://127.0.0.1:8080/push/v1/enrol#t3":           {"http://127.0.0.1:8080", "t3"},
		"https://sso.example.com/push/v1/enrol":            {},
		"https://sso.example.com/push/v1/challenges#tok":   {},
		"ftp://sso.example.com/push/v1/enrol#tok":          {},
		"sso.example.com/push/v1/enrol#tok":                {},
		"https://sso.example.com/push/v1/enrol?token=t#":   {},
		"https://sso.example.com/push/v1/enrol/extra#toke": {},
	} {
		server, token, err := ParseLink(link)
		if (err == nil) != (want[0] != "") || server != want[0] || token != want[1] {
			t.Errorf("ParseLink(%q) = %q, %q, %v; want %q", link, server, token, err, want)
		}
	}
}

// TestQRCode checks the PNG: square, whole modules, a white quiet zone.
func TestQRCode(t *testing.T) {
	uri, err := qrDataURI("https://sso.example.com/push/v1/enrol#" + strings.Repeat("A", 43))
	if err != nil {
		t.Fatal(err)
	}
	raw, ok := strings.CutPrefix(string(uri), "data:image/png;base64,")
	if !ok {
		t.Fatalf("not a PNG data URL: %.40s", uri)
	}
	data, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	if b.Dx() != b.Dy() || b.Dx()%qrModulePixels != 0 || (b.Dx()/qrModulePixels-2*qrQuietZone-21)%4 != 0 {
		t.Fatalf("image %v is not a QR code of whole modules", b)
	}
	for i := range qrQuietZone * qrModulePixels {
		if r, _, _, _ := img.At(i, b.Dy()/2).RGBA(); r != 0xffff {
			t.Fatalf("quiet zone not white at x=%d", i)
		}
	}
	if r, _, _, _ := img.At(qrQuietZone*qrModulePixels, qrQuietZone*qrModulePixels).RGBA(); r != 0 {
		t.Error("the finder pattern's corner is not black")
	}
}

package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/store"
)

func testConfig(t *testing.T) *config.Config {
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.Passwords.Argon2 = config.Argon2{MemoryKiB: 8 * 1024, Iterations: 1, Parallelism: 1}
	cfg.ShutdownTimeout = config.Duration(5 * time.Second)
	return &cfg
}

// TestShutdownDrainsInFlight cancels the serve context while a request is
// being handled: the request completes, new connections are refused, and
// Serve returns nil.
func TestShutdownDrainsInFlight(t *testing.T) {
	s, err := New(context.Background(), testConfig(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	entered, release := make(chan struct{}), make(chan struct{})
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "finished")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	<-entered
	cancel()
	time.Sleep(100 * time.Millisecond) // let Shutdown close the listener
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("new connections accepted during shutdown")
	}
	close(release)
	if body := <-got; body != "finished" {
		t.Errorf("in-flight request got %q, want it to finish", body)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve returned %v, want nil", err)
	}
}

// downStore is a store whose Ping fails, as an unreachable database would.
type downStore struct{ store.Store }

func (downStore) Ping(context.Context) error { return store.ErrUnavailable }

func TestReadyzReportsStoreDown(t *testing.T) {
	s, err := New(context.Background(), testConfig(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check := func(want int, wantBody string) {
		t.Helper()
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code != want || !strings.Contains(rec.Body.String(), wantBody) {
			t.Errorf("/readyz = %d %s, want %d with %s", rec.Code, rec.Body, want, wantBody)
		}
	}
	check(http.StatusOK, `"store":"ok"`)
	real := s.Store
	s.Store = downStore{real}
	check(http.StatusServiceUnavailable, `"store":"unavailable"`)
	s.Store = real
}

package web

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRecoverRendersErrorPage(t *testing.T) {
	logger, logs := testLogger()
	h := AssignRequestID(Recover(logger, testRenderer(t))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("database on fire")
	})))
	w := serve(h, httptest.NewRequest("GET", "/boom", nil))
	id := w.Header().Get(RequestIDHeader)

	if w.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", w.Code)
	}
	body := w.Body.String()
	if !strings.Contains(body, id) || !strings.Contains(body, "Something went wrong") {
		t.Fatalf("error page lacks request id %q:\n%s", id, body)
	}
	if strings.Contains(body, "database on fire") {
		t.Fatal("the panic value reached the browser")
	}
	checkNoStack(t, body)
	log := logs.String()
	for _, s := range []string{"database on fire", id, "goroutine ", "recover_test.go"} {
		if !strings.Contains(log, s) {
			t.Errorf("log lacks %q: %s", s, log)
		}
	}
}

func TestRecoverRepanicsAbortHandler(t *testing.T) {
	logger, logs := testLogger()
	h := Recover(logger, testRenderer(t))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler)
	}))
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Fatalf("recovered %v, want http.ErrAbortHandler", v)
		}
		if logs.String() != "" {
			t.Fatalf("an abort was logged as a panic: %s", logs)
		}
	}()
	serve(h, httptest.NewRequest("GET", "/", nil))
}

func TestRecoverAbortsAStartedResponse(t *testing.T) {
	logger, logs := testLogger()
	h := Recover(logger, testRenderer(t))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "half a page")
		panic(errors.New("late failure"))
	}))
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Fatalf("recovered %v, want http.ErrAbortHandler", v)
		}
		if !strings.Contains(logs.String(), "late failure") {
			t.Fatalf("panic not logged: %s", logs)
		}
	}()
	serve(h, httptest.NewRequest("GET", "/", nil))
}

// TestRecoverOverRealServer checks the client sees a clean 500 through a real
// connection, not a reset.
func TestRecoverOverRealServer(t *testing.T) {
	logger, _ := testLogger()
	srv := httptest.NewServer(Recover(logger, testRenderer(t))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		var m map[string]int
		m["x"]++ // a nil-map panic, as real bugs are
	})))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), "Something went wrong") {
		t.Fatalf("status %d:\n%s", res.StatusCode, body)
	}
	checkNoStack(t, string(body))
}

package web

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/web/webtest"
)

func TestAccessLog(t *testing.T) {
	logger, logs := testLogger()
	trusted, _ := ParseTrustedProxies([]string{"10.0.0.0/8"})
	h := Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte("hello"))
	}), AssignRequestID, ResolveClientIP(trusted), AccessLog(logger))

	r := httptest.NewRequest("POST", "/saml/sso?SAMLRequest=secret&RelayState=x", nil)
	r.RemoteAddr = "10.0.0.2:443"
	r.Header.Set("X-Forwarded-For", "203.0.113.7")
	r.Header.Set(RequestIDHeader, "trace-1")
	serve(h, r)

	var line map[string]any
	if err := json.Unmarshal([]byte(logs.String()), &line); err != nil {
		t.Fatalf("want one JSON line, got %q: %v", logs, err)
	}
	want := map[string]any{
		"method": "POST", "path": "/saml/sso", "status": 202.0, "bytes": 5.0,
		"request_id": "trace-1", "client_ip": "203.0.113.7",
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %v, want %v", k, line[k], v)
		}
	}
	if _, ok := line["duration"]; !ok {
		t.Error("no duration")
	}
	if strings.Contains(logs.String(), "secret") || strings.Contains(logs.String(), "SAMLRequest") {
		t.Errorf("query string logged: %s", logs)
	}
}

func TestAccessLogDefaultStatus(t *testing.T) {
	logger, logs := testLogger()
	serve(AccessLog(logger)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})), httptest.NewRequest("GET", "/", nil))
	var line map[string]any
	json.Unmarshal([]byte(logs.String()), &line)
	if line["status"] != 200.0 {
		t.Fatalf("status = %v, want 200 for a handler that wrote nothing", line["status"])
	}
}

// TestAccessLogExcept: a routine request is logged at debug level, and not
// at all at info; the others as before.
func TestAccessLogExcept(t *testing.T) {
	routine := func(r *http.Request, status int) bool { return r.URL.Path == "/check" && status == http.StatusOK }
	status := http.StatusOK
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) })
	var logs webtest.LogBuffer
	info := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	serve(AccessLogExcept(info, routine)(h), httptest.NewRequest("GET", "/check", nil))
	if logs.String() != "" {
		t.Errorf("a routine request was logged at info: %s", logs.String())
	}
	serve(AccessLogExcept(info, routine)(h), httptest.NewRequest("GET", "/other", nil))
	status = http.StatusForbidden
	serve(AccessLogExcept(info, routine)(h), httptest.NewRequest("GET", "/check", nil))
	if n := strings.Count(logs.String(), `"level":"INFO"`); n != 2 {
		t.Errorf("%d lines at info, want 2 (another path, a refused check):\n%s", n, logs.String())
	}
	debug, debugLogs := testLogger()
	status = http.StatusOK
	serve(AccessLogExcept(debug, routine)(h), httptest.NewRequest("GET", "/check", nil))
	if !strings.Contains(debugLogs.String(), `"level":"DEBUG"`) || !strings.Contains(debugLogs.String(), `"path":"/check"`) {
		t.Errorf("a routine request at debug level: %s", debugLogs.String())
	}
}

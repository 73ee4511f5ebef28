package web

import (
	"github.com/portcullis/portcullis/web/webtest"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func testLogger() (*slog.Logger, *webtest.LogBuffer) {
	var b webtest.LogBuffer
	return slog.New(slog.NewJSONHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})), &b
}

func testRenderer(t *testing.T) *Renderer {
	t.Helper()
	logger, _ := testLogger()
	rd, err := NewRenderer("", logger)
	if err != nil {
		t.Fatal(err)
	}
	return rd
}

// serve runs one request through h and returns the recorded response.
func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func formRequest(method, target, body string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

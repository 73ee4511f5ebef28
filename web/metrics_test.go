package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// counts returns portcullis_http_requests_total by "route code method".
func counts(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]float64)
	for _, f := range families {
		if f.GetName() != "portcullis_http_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			out[labels["route"]+" "+labels["code"]+" "+labels["method"]] = m.GetCounter().GetValue()
		}
	}
	return out
}

func histogramCount(t *testing.T, reg *prometheus.Registry, route string) uint64 {
	t.Helper()
	families, _ := reg.Gather()
	for _, f := range families {
		if f.GetName() != "portcullis_http_request_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			if m.GetLabel()[0].GetValue() == route {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}

func testMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /saml/apps/{name}/launch", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusFound)
	})
	mux.HandleFunc("POST /login", func(http.ResponseWriter, *http.Request) {})
	return mux
}

// TestMetricsRouteFromMuxPattern verifies that ServeMux sets r.Pattern on the
// very *Request it is handed, so the middleware reads it after the handler
// returns, even with context-adding middleware further out.
func TestMetricsRouteFromMuxPattern(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	h := Chain(testMux(), AssignRequestID, ResolveClientIP(nil), m.Middleware)

	serve(h, httptest.NewRequest("GET", "/saml/apps/grafana/launch", nil))
	serve(h, httptest.NewRequest("GET", "/saml/apps/wiki/launch", nil))
	serve(h, httptest.NewRequest("POST", "/login", nil))
	serve(h, httptest.NewRequest("GET", "/wp-admin.php", nil))
	serve(h, httptest.NewRequest("DELETE", "/login", nil))
	serve(h, httptest.NewRequest("BREW", "/coffee", nil))

	want := map[string]float64{
		"GET /saml/apps/{name}/launch 302 GET": 2,
		"POST /login 200 POST":                 1,
		"unmatched 404 GET":                    1,
		"unmatched 405 DELETE":                 1,
		"unmatched 404 other":                  1,
	}
	got := counts(t, reg)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("series %v, want exactly %v", got, want)
	}
	if n := histogramCount(t, reg, "GET /saml/apps/{name}/launch"); n != 2 {
		t.Errorf("duration samples = %d, want 2", n)
	}
}

// TestMetricsMustWrapTheMuxDirectly pins down why Middleware is innermost:
// a request copy made between it and the mux hides the pattern.
func TestMetricsMustWrapTheMuxDirectly(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	copyRequest := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), struct{}{}, 1)))
		})
	}
	serve(Chain(testMux(), m.Middleware, copyRequest), httptest.NewRequest("POST", "/login", nil))
	if got := counts(t, reg); got["unmatched 200 POST"] != 1 {
		t.Fatalf("counts %v: expected the copied request to hide the pattern", got)
	}
}

func TestNewMetricsRegistersOnce(t *testing.T) {
	reg := prometheus.NewRegistry()
	NewMetrics(reg)
	defer func() {
		if recover() == nil {
			t.Fatal("second registration did not panic")
		}
	}()
	NewMetrics(reg)
}

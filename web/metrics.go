package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// unmatchedRoute labels requests no ServeMux pattern matched (404, 405), so
// that scanners cannot mint a new series per path they try.
const unmatchedRoute = "unmatched"

// Metrics counts and times HTTP requests per route.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers portcullis_http_requests_total{route,code,method} and
// portcullis_http_request_duration_seconds{route} on reg. It panics if they
// are registered already, as prometheus.MustRegister does.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portcullis_http_requests_total",
			Help: "HTTP requests by ServeMux route pattern, status code and method.",
		}, []string{"route", "code", "method"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portcullis_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests by ServeMux route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// Middleware observes each request. The route label is r.Pattern, which
// http.ServeMux sets on the *Request it is given, so this must wrap the mux
// directly: it is the innermost middleware. One between them that calls
// r.WithContext hands the mux a copy, and every route would read
// "unmatched".
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = unmatchedRoute
		}
		m.requests.WithLabelValues(route, strconv.Itoa(sw.code()), methodLabel(r.Method)).Inc()
		m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

// methodLabel folds methods we never serve into "other", bounding the
// label's values whatever a client sends.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

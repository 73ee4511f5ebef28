package web

import (
	"log/slog"
	"net/http"
	"time"
)

// AccessLog returns middleware that logs one line per request at info level:
// method, path, status, bytes, duration, request id and client IP. The query
// string is left out, because it carries SAMLRequest, RelayState and return
// URLs that do not belong in logs.
func AccessLog(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r)
			logger.LogAttrs(r.Context(), slog.LevelInfo, "http request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", sw.code()),
				slog.Int64("bytes", sw.bytes),
				slog.Duration("duration", time.Since(start)),
				slog.String("request_id", RequestID(r.Context())),
				slog.String("client_ip", ClientIP(r)))
		})
	}
}

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
	return AccessLogExcept(logger, nil)
}

// AccessLogExcept is AccessLog, except that the requests for which
// routine(r, status) is true are logged at debug level. The server passes
// the reverse proxies' forward-auth checks answered 200: a proxy asks on
// every request of every app, its own access log has them, and at info
// level each would cost a line and a write(2) as long as the check itself.
func AccessLogExcept(logger *slog.Logger, routine func(r *http.Request, status int) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r)
			level := slog.LevelInfo
			if routine != nil && routine(r, sw.code()) {
				level = slog.LevelDebug
			}
			ctx := r.Context()
			if !logger.Enabled(ctx, level) {
				return
			}
			logger.LogAttrs(ctx, level, "http request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", sw.code()),
				slog.Int64("bytes", sw.bytes),
				slog.Duration("duration", time.Since(start)),
				slog.String("request_id", RequestID(ctx)),
				slog.String("client_ip", ClientIP(r)))
		})
	}
}

package web

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
)

// Recover returns middleware that turns a handler panic into a 500 error page
// with the request id, and logs the panic value and stack at error level. The
// browser never sees the stack. http.ErrAbortHandler is re-panicked, since it
// is net/http's own way to abort a response. A panic after the response
// has started aborts the connection too: a 500 page can no longer be sent,
// and a cut-off response is better than one that looks complete.
func Recover(logger *slog.Logger, rd *Renderer) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw := &statusWriter{ResponseWriter: w}
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				logger.LogAttrs(r.Context(), slog.LevelError, "panic serving request",
					slog.String("request_id", RequestID(r.Context())),
					slog.String("method", r.Method), slog.String("path", r.URL.Path),
					slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				if sw.wrote() {
					panic(http.ErrAbortHandler)
				}
				rd.Error(w, r, internalError.Status, internalError.Title, internalError.Message)
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

package web

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"net/http"
)

// RequestIDHeader carries the request id in both directions.
const RequestIDHeader = "X-Request-ID"

// maxRequestIDLen bounds an incoming id, which lands in every log line.
const maxRequestIDLen = 64

type requestIDKey struct{}

// idEncoding has no padding and no ambiguous case, so support staff can read
// an id aloud from a screenshot.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// AssignRequestID gives each request an id, stores it in the context and
// echoes it in the X-Request-ID response header. An id sent by a proxy is
// kept when it is short and of a safe charset, so proxy and gateway logs
// line up; anything else is replaced rather than trusted into the logs.
func AssignRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// RequestID returns the id AssignRequestID stored in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// newRequestID returns 80 random bits as 16 characters.
func newRequestID() string {
	b := make([]byte, 10)
	rand.Read(b) // never fails: crypto/rand panics rather than return short
	return idEncoding.EncodeToString(b)
}

func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !safeIDByte(id[i]) {
			return false
		}
	}
	return true
}

func safeIDByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.'
}

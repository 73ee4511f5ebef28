package web

import "net/http"

// Chain wraps h in the middleware mw, the first one outermost: Chain(h, a, b)
// is a(b(h)), so a request meets the middleware in the order listed.
func Chain(h http.Handler, mw ...func(http.Handler) http.Handler) http.Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

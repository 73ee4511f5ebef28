package web

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

func TestChainRunsMiddlewareInListedOrder(t *testing.T) {
	var trace []string
	mark := func(name string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				trace = append(trace, name+">")
				next.ServeHTTP(w, r)
				trace = append(trace, "<"+name)
			})
		}
	}
	h := Chain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		trace = append(trace, "handler")
	}), mark("a"), mark("b"))
	serve(h, httptest.NewRequest("GET", "/", nil))

	want := []string{"a>", "b>", "handler", "<b", "<a"}
	if !slices.Equal(trace, want) {
		t.Fatalf("trace = %v, want %v", trace, want)
	}
}

func TestChainWithoutMiddlewareIsTheHandler(t *testing.T) {
	h := Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	if got := serve(h, httptest.NewRequest("GET", "/", nil)).Code; got != http.StatusTeapot {
		t.Fatalf("status = %d, want 418", got)
	}
}

package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestStaticHandler(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("GET /static/", StaticHandler())
	css, err := assetURL("portcullis.css")
	if err != nil {
		t.Fatal(err)
	}

	w := serve(mux, httptest.NewRequest("GET", css, nil))
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/css") {
		t.Fatalf("status %d, Content-Type %q", w.Code, w.Header().Get("Content-Type"))
	}
	if cc := w.Header().Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") {
		t.Errorf("versioned asset Cache-Control = %q, want a year", cc)
	}

	stale := serve(mux, httptest.NewRequest("GET", "/static/portcullis.css?v=old", nil))
	if cc := stale.Header().Get("Cache-Control"); stale.Code != http.StatusOK || strings.Contains(cc, "31536000") {
		t.Errorf("stale version: status %d, Cache-Control %q", stale.Code, cc)
	}

	svg := serve(mux, httptest.NewRequest("GET", "/static/logo.svg", nil))
	if svg.Code != http.StatusOK || svg.Header().Get("Content-Type") != "image/svg+xml" {
		t.Errorf("logo: status %d, Content-Type %q", svg.Code, svg.Header().Get("Content-Type"))
	}

	for _, p := range []string{"/static/", "/static/nope.css", "/static/../static.go"} {
		if w := serve(mux, httptest.NewRequest("GET", p, nil)); w.Code == http.StatusOK {
			t.Errorf("%s: status 200, want not found", p)
		}
	}
}

func TestStaticHandlerConditionalGet(t *testing.T) {
	css, _ := assetURL("portcullis.css")
	w := serve(StaticHandler(), httptest.NewRequest("GET", css, nil))
	r := httptest.NewRequest("GET", css, nil)
	r.Header.Set("If-None-Match", w.Header().Get("ETag"))
	if got := serve(StaticHandler(), r).Code; got != http.StatusNotModified {
		t.Fatalf("status %d, want 304", got)
	}
}

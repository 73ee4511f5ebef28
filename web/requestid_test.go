package web

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

var generatedID = regexp.MustCompile(`^[a-z2-7]{16}$`)

func TestAssignRequestID(t *testing.T) {
	tests := []struct {
		name     string
		incoming string
		keep     bool
	}{
		{"none sent", "", false},
		{"proxy id kept", "9f86d081-884c_4d63.a", true},
		{"64 chars kept", strings.Repeat("a", 64), true},
		{"65 chars replaced", strings.Repeat("a", 65), false},
		{"space replaced", "abc def", false},
		{"newline replaced", "abc\nlevel=ERROR", false},
		{"markup replaced", "<script>", false},
		{"quote replaced", `a"b`, false},
		{"non-ascii replaced", "ünïcode", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen string
			h := AssignRequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = RequestID(r.Context())
			}))
			r := httptest.NewRequest("GET", "/", nil)
			if tt.incoming != "" {
				r.Header.Set(RequestIDHeader, tt.incoming)
			}
			echoed := serve(h, r).Header().Get(RequestIDHeader)

			if seen != echoed {
				t.Fatalf("context id %q, header id %q: want the same", seen, echoed)
			}
			if tt.keep && seen != tt.incoming {
				t.Fatalf("id = %q, want incoming %q kept", seen, tt.incoming)
			}
			if !tt.keep && !generatedID.MatchString(seen) {
				t.Fatalf("id = %q, want a fresh generated id", seen)
			}
		})
	}
}

func TestRequestIDsAreUnique(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		id := newRequestID()
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func TestRequestIDWithoutMiddlewareIsEmpty(t *testing.T) {
	if id := RequestID(httptest.NewRequest("GET", "/", nil).Context()); id != "" {
		t.Fatalf("RequestID = %q, want empty", id)
	}
}

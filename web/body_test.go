package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// formSite is a form route as handlers write it: ParseForm first, the side
// effect only after.
type formSite struct {
	h   http.Handler
	ran bool
}

func newFormSite(t *testing.T, limit int64) *formSite {
	rd := testRenderer(t)
	s := &formSite{}
	s.h = LimitBody(limit)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := ParseForm(w, r); err != nil {
			rd.Fail(w, r, err)
			return
		}
		s.ran = true
		io.WriteString(w, r.PostForm.Get("name"))
	}))
	return s
}

// chunked hides the length, so only reading finds the body too large.
type chunked struct{ io.Reader }

func TestLimitBodyTooLarge(t *testing.T) {
	body := "name=" + strings.Repeat("x", 2<<20)
	for _, declared := range []bool{true, false} {
		s := newFormSite(t, 1<<20)
		r := formRequest("POST", "/", body)
		if !declared {
			r = httptest.NewRequest("POST", "/", chunked{strings.NewReader(body)})
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.ContentLength = -1
		}
		w := serve(s.h, r)
		if w.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("declared=%v: status %d, want 413", declared, w.Code)
		}
		if s.ran {
			t.Errorf("declared=%v: the handler's side effect ran", declared)
		}
		if !strings.Contains(w.Body.String(), "Request too large") {
			t.Errorf("declared=%v: no error page", declared)
		}
	}
}

func TestLimitBodyAllowsBodyAtTheLimit(t *testing.T) {
	body := "name=" + strings.Repeat("x", 1<<20-len("name="))
	s := newFormSite(t, 1<<20)
	w := serve(s.h, formRequest("POST", "/", body))
	if w.Code != http.StatusOK || !s.ran || w.Body.Len() != 1<<20-5 {
		t.Fatalf("status %d, ran %v, echoed %d bytes", w.Code, s.ran, w.Body.Len())
	}
}

func TestParseFormDefaultLimit(t *testing.T) {
	s := newFormSite(t, 64<<20) // a loose outer limit: ParseForm's own applies
	w := serve(s.h, formRequest("POST", "/", "name="+strings.Repeat("x", DefaultFormLimit)))
	if w.Code != http.StatusRequestEntityTooLarge || s.ran {
		t.Fatalf("status %d, ran %v; want 413", w.Code, s.ran)
	}
}

func TestParseFormBadRequest(t *testing.T) {
	tests := []struct {
		name, method, target, contentType, body string
	}{
		{"bad percent-encoding", "POST", "/", "application/x-www-form-urlencoded", "name=%zz"},
		{"bad percent-encoding in query", "GET", "/?name=%zz", "", ""},
		{"json posted to a form", "POST", "/", "application/json", `{"name":"x"}`},
		{"multipart", "POST", "/", "multipart/form-data; boundary=x", "--x--"},
		{"no content type", "POST", "/", "", "name=x"},
		{"broken content type", "POST", "/", "application/x-www-form-urlencoded; =", "name=x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFormSite(t, 1<<20)
			r := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			w := serve(s.h, r)
			if w.Code != http.StatusBadRequest || s.ran {
				t.Fatalf("status %d, ran %v; want 400", w.Code, s.ran)
			}
		})
	}
}

func TestParseFormAccepts(t *testing.T) {
	s := newFormSite(t, 1<<20)
	r := httptest.NewRequest("POST", "/", strings.NewReader("name=J%C3%BCrgen+M"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	if w := serve(s.h, r); w.Code != http.StatusOK || w.Body.String() != "Jürgen M" {
		t.Fatalf("status %d, body %q", w.Code, w.Body)
	}
}

// countingBody records how much of the body the server read.
type countingBody struct {
	r    io.Reader
	read int
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read += n
	return n, err
}

func TestLimitBodyReadsNothingOfADeclaredOversizeBody(t *testing.T) {
	body := &countingBody{r: strings.NewReader(strings.Repeat("x", 2<<20))}
	r := httptest.NewRequest("POST", "/", body)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.ContentLength = 2 << 20
	s := newFormSite(t, 1<<20)
	if w := serve(s.h, r); w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", w.Code)
	}
	if body.read != 0 {
		t.Fatalf("read %d bytes of a body declared too large", body.read)
	}
}

package web

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestFieldAttrsEscape(t *testing.T) {
	for f, want := range map[Field]string{
		{Name: "SAMLResponse", Value: "PHNhbWw+Zm9v/w=="}:             `name="SAMLResponse" value="PHNhbWw+Zm9v/w=="`,
		{Name: "RelayState", Value: `x&y"><script>alert(1)</script>`}: `name="RelayState" value="x&amp;y&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`,
		{Name: "RelayState", Value: "it's"}:                           `name="RelayState" value="it&#39;s"`,
	} {
		if got := string(f.Attrs()); got != want {
			t.Errorf("Attrs(%q) = %s, want %s", f.Value, got, want)
		}
	}
}

// A Base64Field's Value is the base64 of its bytes, and its attributes are
// those of a Field made from the same name and value.
func TestBase64Field(t *testing.T) {
	for _, raw := range [][]byte{nil, []byte("<samlp:Response/>"), {0xfb, 0xff, 0xfe, 0x00, 0x3e}, []byte(strings.Repeat("x", 3000))} {
		f := Base64Field(`Odd"Name`, raw)
		if want := base64.StdEncoding.EncodeToString(raw); f.Value != want {
			t.Errorf("Value = %q, want %q", f.Value, want)
		}
		plain := Field{Name: f.Name, Value: f.Value}
		if f.Attrs() != plain.Attrs() {
			t.Errorf("Attrs = %s, want %s", f.Attrs(), plain.Attrs())
		}
	}
}

func TestBounce(t *testing.T) {
	rd := testRenderer(t)
	form := func(method, body string) *http.Request {
		r := httptest.NewRequest(method, "https://gw.example.com/saml/slo", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := r.ParseForm(); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for name, c := range map[string]struct {
		r         *http.Request
		hasCookie bool
	}{
		"with the cookie":  {form(http.MethodPost, "SAMLRequest=x"), true},
		"already bounced":  {form(http.MethodPost, "SAMLRequest=x&"+BounceField+"=1"), false},
		"a GET (redirect)": {form(http.MethodGet, ""), false},
	} {
		w := httptest.NewRecorder()
		if rd.Bounce(w, c.r, c.hasCookie, "https://gw.example.com/saml/slo", "Signing you out") || w.Body.Len() > 0 {
			t.Errorf("%s: bounced", name)
		}
	}
	w := httptest.NewRecorder()
	if !rd.Bounce(w, form(http.MethodPost, "SAMLRequest=a%2Bb&RelayState=r"), false, "https://gw.example.com/saml/slo", "Signing you out") {
		t.Fatal("a cross-site POST was not bounced")
	}
	body := w.Body.String()
	for _, want := range []string{`action="https://gw.example.com/saml/slo"`, `name="` + BounceField + `" value="1"`,
		`name="SAMLRequest" value="a+b"`, `name="RelayState" value="r"`} {
		if !strings.Contains(body, want) {
			t.Errorf("bounce page lacks %s", want)
		}
	}
}

// Post writes the bytes the template would: for the first request of a
// form (which makes its shell) and for later ones with other values (which
// reuse it), for one field or two, and for values that need escaping.
func TestPostShellIsTheTemplatesPage(t *testing.T) {
	rd := testRenderer(t)
	forms := []PostData{
		{URL: "https://app.example.com/acs", Heading: "Signing you in", Message: "Taking you to Wiki…",
			Fields: []Field{Base64Field("SAMLResponse", []byte("<one/>")), {Name: "RelayState", Value: `a&b"<c>`}}},
		{URL: "https://app.example.com/acs", Heading: "Signing you in", Message: "Taking you to Wiki…",
			Fields: []Field{Base64Field("SAMLResponse", []byte("<two/>")), {Name: "RelayState", Value: "it's"}}},
		{URL: "https://app.example.com/acs", Heading: "Signing you in", Message: "Taking you to Wiki…",
			Fields: []Field{Base64Field("SAMLResponse", []byte("<three/>"))}},
		{URL: "https://crm.example.com/saml?x=1&y=<2>", Heading: "Signing out", Message: `"CRM" & co`,
			Fields: []Field{{Name: "SAMLRequest", Value: "UkVR"}, {Name: "RelayState", Value: "r"}}},
	}
	for round := range 2 {
		for i, d := range forms {
			got, want, err := postAndRender(rd, d)
			if err != nil {
				t.Fatal(err)
			}
			if got.Body.String() != want.Body.String() {
				t.Errorf("round %d, form %d: Post wrote\n%s\nthe template\n%s", round, i, got.Body, want.Body)
			}
			if got.Code != http.StatusOK || got.Header().Get("Content-Length") != want.Header().Get("Content-Length") {
				t.Errorf("round %d, form %d: status %d, Content-Length %s; want 200, %s", round, i, got.Code,
					got.Header().Get("Content-Length"), want.Header().Get("Content-Length"))
			}
		}
	}
	rd.posts.mu.Lock()
	defer rd.posts.mu.Unlock()
	if n := len(rd.posts.m); n != 3 {
		t.Errorf("%d shells kept, want 3 (two forms differ only in their values)", n)
	}
	for k, parts := range rd.posts.m {
		if parts == nil {
			t.Errorf("form %+v was not kept as a shell", k)
		}
	}
}

// An operator's saml_post.html that writes a field's value itself, or the
// request ID, is executed for every request: each page shows its own.
func TestPostShellNotKeptForARequestsOwnText(t *testing.T) {
	for name, field := range map[string]string{
		"value":      `{{range .Data.Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">{{end}}`,
		"request id": `{{range .Data.Fields}}<input type="hidden" {{.Attrs}}>{{end}}<p>{{.RequestID}}</p>`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			src := `{{define "content"}}<form action="{{.Data.URL}}">` + field + `</form>{{end}}`
			if err := os.WriteFile(filepath.Join(dir, postPage), []byte(src), 0o600); err != nil {
				t.Fatal(err)
			}
			rd, err := NewRenderer(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rd.posts.marker != "" {
				t.Fatal("an operator's saml_post.html is kept as shells")
			}
			// Markers as for the embedded templates: they must still
			// find what the page writes of a request's own.
			rd.posts.marker = "portcullis-slot-test"
			for _, v := range []string{"first", "second"} {
				r := httptest.NewRequest(http.MethodGet, "/saml/sso", nil)
				r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, "req-"+v))
				w := httptest.NewRecorder()
				d := PostData{URL: "https://app.example.com/acs", Fields: []Field{{Name: "SAMLResponse", Value: v}}}
				if err := rd.Post(w, r, d); err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(w.Body.String(), `value="`+v+`"`) {
					t.Errorf("page for %q:\n%s", v, w.Body)
				}
				if name == "request id" && !strings.Contains(w.Body.String(), "req-"+v) {
					t.Errorf("page for %q does not show its request ID:\n%s", v, w.Body)
				}
			}
			rd.posts.mu.Lock()
			defer rd.posts.mu.Unlock()
			for k, parts := range rd.posts.m {
				if parts != nil {
					t.Errorf("form %+v kept as a shell", k)
				}
			}
		})
	}
}

// Posts of one form with their own values, at once, each get their own
// page, the template's bytes (run under -race in CI).
func TestPostShellConcurrent(t *testing.T) {
	rd := testRenderer(t)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			d := PostData{URL: "https://app.example.com/acs", Heading: "Signing you in",
				Fields: []Field{Base64Field("SAMLResponse", []byte(fmt.Sprintf("<r%d/>", i))), {Name: "RelayState", Value: fmt.Sprint(i)}}}
			got, want, err := postAndRender(rd, d)
			if err != nil {
				t.Error(err)
				return
			}
			if got.Body.String() != want.Body.String() {
				t.Errorf("post %d: the page differs from the template's", i)
			}
		})
	}
	wg.Wait()
}

// A form larger than maxPostForm (Bounce posts again whatever field names a
// cross-site POST had) is executed for its request and not kept, so what
// anyone posts cannot grow the cache past its bound.
func TestPostShellNotKeptForALargeForm(t *testing.T) {
	rd := testRenderer(t)
	d := PostData{URL: "https://gw.example.com/saml/slo", Heading: "Continue",
		Fields: []Field{{Name: BounceField, Value: "1"}, {Name: strings.Repeat("n", maxPostForm), Value: "v"}}}
	got, want, err := postAndRender(rd, d)
	if err != nil {
		t.Fatal(err)
	}
	if got.Body.String() != want.Body.String() {
		t.Error("the page differs from the template's")
	}
	rd.posts.mu.Lock()
	defer rd.posts.mu.Unlock()
	if len(rd.posts.m) != 0 {
		t.Errorf("%d shells kept, want none", len(rd.posts.m))
	}
}

// postAndRender answers d with Post, and with the template executed as
// Render does, to compare.
func postAndRender(rd *Renderer, d PostData) (got, want *httptest.ResponseRecorder, err error) {
	r := httptest.NewRequest(http.MethodGet, "/saml/sso", nil)
	want = httptest.NewRecorder()
	rd.Render(want, r, http.StatusOK, postPage, Page{Title: d.Heading, Data: d})
	got = httptest.NewRecorder()
	err = rd.Post(got, r, d)
	return got, want, err
}

package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
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

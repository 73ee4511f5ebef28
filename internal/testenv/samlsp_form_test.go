package testenv_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/portcullis/portcullis/internal/testenv"
)

// formPage is a page in the shapes template engines write: a script with
// "<" and "&&" and a form without SAML fields before the SAML form, upper
// case tags, unquoted and bare attributes, entities, a relative action,
// buttons and boxes.
const formPage = `<!DOCTYPE html><html><head>
<script>if (a < b && c) { document.write("<form action=/wrong>") }</script></head>
<body onload="document.forms[1].submit()">
<form method="post" action="/logout"><input type="hidden" name="_csrf" value="t"></form>
<FORM Method=POST action="../next?x=1&amp;y=2">
<input type=hidden name=SAMLResponse value="PHNhbWw&#43;&#x2F;">
<input type="hidden" name="RelayState" value="a&amp;b &quot;c&quot; &lt;d&gt; &eacute;">
<input type="checkbox" name="remember" checked>
<input type="checkbox" name="unticked" value="1">
<input type="submit" name="go" value="Continue">
<noscript><button>Continue</button></noscript>
</FORM><form action="/second"><input name="no"></form></body></html>`

// TestSPParseAutoForm proves the parser reads the SAML form as a browser
// would send it and PostAutoForm posts it with the page's Origin.
func TestSPParseAutoForm(t *testing.T) {
	var got url.Values
	var origin string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /dir/page", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, formPage) })
	mux.HandleFunc("POST /next", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		got, origin = r.PostForm, r.Header.Get("Origin")
		fmt.Fprint(w, "done")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := testenv.NewClient(t)
	page := c.Get(srv.URL + "/dir/page")
	f, err := testenv.ParseAutoForm(page)
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"SAMLResponse": {"PHNhbWw+/"}, "RelayState": {`a&b "c" <d> é`}, "remember": {"on"}}
	if f.Action != srv.URL+"/next?x=1&y=2" || f.Method != http.MethodPost || f.Fields.Encode() != want.Encode() {
		t.Fatalf("parsed %+v", f)
	}
	r := testenv.PostAutoForm(c, page)
	if r.Body != "done" || got.Encode() != want.Encode() || origin != srv.URL {
		t.Errorf("posted %v with Origin %q, answer %q", got, origin, r.Body)
	}
}

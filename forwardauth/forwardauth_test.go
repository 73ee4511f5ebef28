package forwardauth

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/web"
)

func testRules(t *testing.T) *Rules {
	t.Helper()
	rs, err := Compile([]config.Rule{
		{Host: "public.example.com", Policy: Bypass},
		{Host: "app.example.com", Path: "/admin/*", Policy: TwoFactor, Groups: []string{"admins"}, MaxMFAAge: config.Duration(time.Hour)},
		{Host: "app.example.com", Methods: []string{"POST", "DELETE"}, Policy: TwoFactor},
		{Host: "*.example.com", Policy: OneFactor},
		{Path: "/health", Policy: Bypass},
	}, Deny)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestRulesFirstMatchWins(t *testing.T) {
	rs := testRules(t)
	for _, tc := range []struct {
		method, host, path string
		want               int
	}{
		{"GET", "public.example.com", "/anything", 0},
		{"GET", "PUBLIC.Example.COM", "/", 0},
		{"GET", "app.example.com", "/admin/users", 1},
		{"GET", "app.example.com", "/admin/", 1},
		{"GET", "app.example.com", "/admin", 3}, // "/admin/*" needs the slash
		{"POST", "app.example.com", "/x", 2},
		{"GET", "app.example.com", "/x", 3},
		{"GET", "deep.sub.example.com", "/", 3},
		{"GET", "example.com", "/", -1}, // "*.example.com" is not example.com itself
		{"GET", "evil-example.com", "/", -1},
		{"GET", "example.com.evil.net", "/", -1},
		{"GET", "other.net", "/health", 4},
		{"GET", "other.net", "/healthz", -1},
		{"GET", "other.net", "/", -1},
	} {
		if got := rs.Match(tc.method, tc.host, tc.path); got.Index != tc.want {
			t.Errorf("%s %s%s matched rule %d, want %d", tc.method, tc.host, tc.path, got.Index, tc.want)
		}
	}
	if d := rs.Match("GET", "nowhere", "/"); d.Policy != Deny {
		t.Errorf("default policy = %q", d.Policy)
	}
}

func TestCoversOnlyNamedHosts(t *testing.T) {
	rs := testRules(t)
	for host, want := range map[string]bool{
		"app.example.com": true, "x.example.com": true, "public.example.com": true,
		"example.com": false, "other.net": false, "evil.com": false,
	} {
		if got := rs.Covers(host); got != want {
			t.Errorf("Covers(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestCompileRefusesBadRules(t *testing.T) {
	if _, err := Compile(nil, "allow"); err == nil {
		t.Error("default policy allow accepted")
	}
	if _, err := Compile([]config.Rule{{Path: "admin", Policy: Deny}}, Deny); err == nil {
		t.Error("a relative path accepted")
	}
	if _, err := Compile([]config.Rule{{Host: "a.example.com", Policy: "two-factor"}}, Deny); err == nil {
		t.Error("a misspelt policy accepted")
	}
}

// trusted runs r through ResolveClientIP with 127.0.0.0/8 trusted.
func trusted(r *http.Request, peer string) *http.Request {
	r.RemoteAddr = peer
	var out *http.Request
	web.ResolveClientIP([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		out = r
	})).ServeHTTP(httptest.NewRecorder(), r)
	return out
}

func TestNginxTarget(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers map[string]string
		peer    string
		want    string // "" means an error
		method  string
	}{
		{"original URL", map[string]string{"X-Original-URL": "https://app.example.com/a?b=c", "X-Original-Method": "post"}, "127.0.0.1:1", "https://app.example.com/a?b=c", "POST"},
		{"URI and host", map[string]string{"X-Original-URI": "/p/q?x=1", "X-Original-Host": "app.example.com:8443", "X-Forwarded-Proto": "https"}, "127.0.0.1:1", "https://app.example.com:8443/p/q?x=1", "GET"},
		{"untrusted peer", map[string]string{"X-Original-URL": "https://app.example.com/"}, "192.0.2.1:1", "", ""},
		{"nothing", map[string]string{}, "127.0.0.1:1", "", ""},
		{"not absolute", map[string]string{"X-Original-URL": "/relative"}, "127.0.0.1:1", "", ""},
		{"bad scheme", map[string]string{"X-Original-URL": "javascript://app.example.com/"}, "127.0.0.1:1", "", ""},
		{"credentials", map[string]string{"X-Original-URL": "https://u:p@app.example.com/"}, "127.0.0.1:1", "", ""},
		{"bad host", map[string]string{"X-Original-URL": "https://app example.com/"}, "127.0.0.1:1", "", ""},
		{"bad method", map[string]string{"X-Original-URL": "https://app.example.com/", "X-Original-Method": "GET /x"}, "127.0.0.1:1", "", ""},
		{"extension method", map[string]string{"X-Original-URL": "https://app.example.com/", "X-Original-Method": "propfind"}, "127.0.0.1:1", "https://app.example.com/", "PROPFIND"},
		{"protocol-relative URI", map[string]string{"X-Original-URI": "//evil.com/x", "X-Original-Host": "app.example.com"}, "127.0.0.1:1", "", ""},
	} {
		r := httptest.NewRequest("GET", RequestPath, nil)
		for k, v := range tc.headers {
			r.Header.Set(k, v)
		}
		got, err := fromNginx(trusted(r, tc.peer))
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%s: accepted %s", tc.name, got.URL)
		case tc.want != "" && (err != nil || got.URL.String() != tc.want || got.Method != tc.method):
			t.Errorf("%s: %v %v, want %s %s", tc.name, got, err, tc.method, tc.want)
		}
	}
}

func TestForwardedTarget(t *testing.T) {
	r := httptest.NewRequest("GET", ForwardPath, nil)
	r.Header.Set("X-Forwarded-Method", "DELETE")
	r.Header.Set("X-Forwarded-Proto", "https, http")
	r.Header.Set("X-Forwarded-Host", "App.Example.com")
	r.Header.Set("X-Forwarded-Uri", "/items/7?force=1")
	got, err := fromForwarded(trusted(r, "127.0.0.1:9"))
	if err != nil || got.Method != "DELETE" || got.URL.String() != "https://App.Example.com/items/7?force=1" || got.Host() != "app.example.com" {
		t.Fatalf("forwarded = %+v %v", got, err)
	}
	if _, err := fromForwarded(trusted(r, "10.0.0.1:9")); err != errUntrusted {
		t.Errorf("untrusted peer: %v", err)
	}
	r.Header.Del("X-Forwarded-Uri")
	if _, err := fromForwarded(trusted(r, "127.0.0.1:9")); err != errNoTarget {
		t.Errorf("no URI: %v", err)
	}
}

func TestEnvoyTarget(t *testing.T) {
	r := httptest.NewRequest("PUT", EnvoyPrefix+"/api/v1/things?x=y", nil)
	r.Host = "app.example.com"
	r.Header.Set("X-Forwarded-Proto", "https")
	got, err := fromEnvoy(trusted(r, "127.0.0.1:9"), EnvoyPrefix)
	if err != nil || got.Method != "PUT" || got.URL.String() != "https://app.example.com/api/v1/things?x=y" {
		t.Fatalf("envoy = %+v %v", got, err)
	}
	root := httptest.NewRequest("GET", EnvoyPrefix, nil)
	root.Host = "app.example.com"
	if got, err := fromEnvoy(trusted(root, "127.0.0.1:9"), EnvoyPrefix); err != nil || got.URL.Path != "/" {
		t.Errorf("envoy root = %+v %v", got, err)
	}
}

func FuzzTargets(f *testing.F) {
	f.Add("https://app.example.com/a?b", "/x", "app.example.com", "GET")
	f.Add("http://[::1]:80/", "//x", "a b", "post")
	f.Fuzz(func(t *testing.T, raw, uri, host, method string) {
		for _, tg := range []func() (Target, error){
			func() (Target, error) { return parseTarget(methodOr(method), raw) },
			func() (Target, error) { return build(methodOr(method), "https", host, uri) },
		} {
			got, err := tg()
			if err != nil {
				continue
			}
			if got.URL.Scheme != "http" && got.URL.Scheme != "https" || got.URL.Host == "" || got.URL.User != nil {
				t.Fatalf("accepted %q", got.URL)
			}
		}
	})
}

func TestCoverAddsExactHosts(t *testing.T) {
	rs := testRules(t)
	rs.Cover("Wiki.Internal")
	if !rs.Covers("wiki.internal") || rs.Covers("x.wiki.internal") {
		t.Error("Cover does not add exactly the named host")
	}
}

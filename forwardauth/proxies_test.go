package forwardauth_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/store"
)

// The proxy configurations in testdata/*.tmpl are the ones
// docs/forward-auth.md shows: TestDocShowsTestedConfigs renders each with
// docSite and finds the result in the document, the proxy tests render
// them with the test's addresses and run them.

// site is what a configuration template is rendered with.
type site struct {
	Domain    string // parent domain of the gateway and its apps (sessions.cookie_domain)
	AppHost   string // the protected app's host name
	AuthURL   string // the gateway's base_url, where browsers sign in
	Gateway   string // the gateway as the proxy reaches it
	App       string // the app as the proxy reaches it
	ProxyIP   string // the proxy's address as the gateway sees it (trusted_proxies)
	Listen    string // nginx: the listen parameter
	CaddySite string // Caddy: the site address
}

// docSite is what docs/forward-auth.md shows.
var docSite = site{
	Domain:    "example.com",
	AppHost:   "app.example.com",
	AuthURL:   "https://auth.example.com",
	Gateway:   "http://127.0.0.1:8080",
	App:       "http://127.0.0.1:3000",
	ProxyIP:   "127.0.0.1",
	Listen:    "80",
	CaddySite: "app.example.com",
}

const (
	docPath     = "../docs/forward-auth.md"
	ada         = "ada@example.com"
	adaPassword = "ada's long password"
)

// render fills testdata/name.tmpl with s.
func render(t testing.TB, name string, s site) string {
	t.Helper()
	tmpl, err := template.New(name + ".tmpl").Funcs(template.FuncMap{"host": urlHost, "port": urlPort}).
		ParseFiles(filepath.Join("testdata", name+".tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, s); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// urlHost and urlPort are the host and port of an http:// URL, for
// configurations that want them apart (Envoy's socket_address).
func urlHost(u string) (string, error) {
	h, _, err := net.SplitHostPort(strings.TrimPrefix(u, "http://"))
	return h, err
}

func urlPort(u string) (string, error) {
	_, p, err := net.SplitHostPort(strings.TrimPrefix(u, "http://"))
	return p, err
}

// TestDocShowsTestedConfigs keeps docs/forward-auth.md honest: each
// configuration the proxy tests run appears in it verbatim, with the
// document's example names.
func TestDocShowsTestedConfigs(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"gateway.yml", "nginx.conf", "Caddyfile", "traefik.yml", "envoy.yaml"} {
		if want := render(t, name, docSite); !bytes.Contains(doc, []byte(want)) {
			t.Errorf("%s does not show testdata/%s.tmpl as the tests run it; it should contain:\n%s", docPath, name, want)
		}
	}
}

// stack is a gateway configured from testdata/gateway.yml, an app that
// echoes what reaches it, and a user in group staff, before any proxy.
type stack struct {
	node *testenv.Node
	app  *testenv.Echo
	site site
}

// gatewayHost is the gateway's name: under the apps' parent domain, so
// one session cookie (sessions.cookie_domain) reaches both.
const gatewayHost = "auth.example.test"

func newStack(t *testing.T, opts ...testenv.Option) *stack {
	t.Helper()
	s := site{Domain: "example.test", AppHost: "app.example.test", AuthURL: "http://" + gatewayHost, ProxyIP: "127.0.0.1"}
	file := filepath.Join(t.TempDir(), "gateway.yml")
	if err := os.WriteFile(file, []byte(render(t, "gateway.yml", s)), 0o600); err != nil {
		t.Fatal(err)
	}
	loaded, err := config.Load(file, nil)
	if err != nil {
		t.Fatalf("testdata/gateway.yml.tmpl: %v", err)
	}
	opts = append([]testenv.Option{func(c *config.Config) {
		c.TrustedProxies = loaded.TrustedProxies
		c.Sessions.CookieDomain = loaded.Sessions.CookieDomain
		c.ForwardAuth = loaded.ForwardAuth
	}}, opts...)
	env := testenv.StartNamed(t, gatewayHost, opts...)
	node := env.Nodes[0]
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(node.URL, "http://"))
	s.AuthURL, s.Gateway = node.URL, "http://127.0.0.1:"+port
	app := testenv.StartEcho(t)
	s.App = app.URL
	st := &stack{node: node, app: app, site: s}
	ctx := context.Background()
	u := env.AddUser(t, ada, adaPassword)
	g := store.Group{Name: "staff"}
	if err := node.Server.Store.CreateGroup(ctx, &g); err != nil {
		t.Fatal(err)
	}
	if err := node.Server.Store.AddMember(ctx, g.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	return st
}

// proxies are the proxies the gateway is tested behind: each start
// function configures one from its testdata template for a stack and
// returns the app's URL through it. down is what the browser gets when the
// gateway answers 503.
var proxies = []struct {
	name  string
	start func(*testing.T, *stack) string
	down  int
}{
	{"nginx", startNginx, http.StatusInternalServerError}, // auth_request turns any other status into 500
	{"caddy", startCaddy, http.StatusServiceUnavailable},
	{"traefik-emulated", startTraefik, http.StatusServiceUnavailable},
	{"envoy-emulated", startEnvoy, http.StatusServiceUnavailable},
}

// TestBehindProxies runs the browser's whole story through each proxy:
// sign-in with MFA, the app seeing who it is, a group rule, logout and a
// disabled user. With the tests' Redis (always in CI) sessions are in
// Redis, so requests are answered from the memo, and a step-up, logout and
// disabling must reach it; without, in memory.
func TestBehindProxies(t *testing.T) {
	for _, p := range proxies {
		t.Run(p.name, func(t *testing.T) {
			st := newStack(t, testenv.RedisSessionsIfSet(t))
			st.journey(t, p.start(t, st))
		})
	}
}

// TestSessionBackendDown stops the session backend (a private Redis) under
// a signed-in browser: the gateway answers 503, the proxy passes it on (or
// nginx its 500), and the app is never reached.
func TestSessionBackendDown(t *testing.T) {
	for _, p := range proxies {
		t.Run(p.name, func(t *testing.T) {
			rds := testenv.StartPrivateRedis(t)
			st := newStack(t, func(c *config.Config) {
				c.Sessions.Store = "redis"
				c.Sessions.RedisURL = rds.URL()
			})
			appURL := p.start(t, st)
			c := st.browser(t)
			if r := c.Login(st.node, ada, adaPassword); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("login = %d:\n%s", r.StatusCode, r.Body)
			}
			if r := c.Get(appURL + "/admin/users"); r.StatusCode != http.StatusForbidden {
				t.Fatalf("with Redis up, /admin/users = %d, want 403 (signed in, not in admins)", r.StatusCode)
			}
			rds.Stop()
			// A closed connection ends the memo's lease as soon as the
			// node sees it close; a silent one, within the lease
			// (session/redis DefaultLease).
			st.node.WaitMemo(t, false)
			for _, path := range []string{"/admin/users", "/dashboard"} {
				if r := c.Get(appURL + path); r.StatusCode != p.down {
					t.Errorf("with Redis down, %s = %d, want %d:\n%s", path, r.StatusCode, p.down, r.Body)
				}
			}
			if n := st.app.Hits(); n != 0 {
				t.Errorf("the app was reached %d times", n)
			}
		})
	}
}

// startNginx renders testdata/nginx.conf for st, runs nginx with it and
// returns the app's URL through nginx.
func startNginx(t *testing.T, st *stack) string {
	addr := testenv.FreeAddr(t)
	s := st.site
	s.Listen = addr
	testenv.StartNginx(t, addr, render(t, "nginx.conf", s))
	_, port, _ := net.SplitHostPort(addr)
	return "http://" + s.AppHost + ":" + port
}

// startCaddy renders testdata/Caddyfile for st, runs Caddy with it and
// returns the app's URL through Caddy.
func startCaddy(t *testing.T, st *stack) string {
	addr := testenv.FreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	s := st.site
	s.CaddySite = "http://" + s.AppHost + ":" + port
	testenv.StartCaddy(t, addr, render(t, "Caddyfile", s))
	return s.CaddySite
}

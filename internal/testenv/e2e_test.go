package testenv_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/internal/server"
	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/store"
)

func wantStatus(t *testing.T, r *testenv.Response, code int) {
	t.Helper()
	if r.StatusCode != code {
		t.Fatalf("%s %s = %d, want %d\n%s", r.Request.Method, r.Request.URL, r.StatusCode, code, r.Body)
	}
}

func wantRedirect(t *testing.T, r *testenv.Response, prefix string) {
	t.Helper()
	loc := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, prefix) {
		t.Fatalf("%s %s = %d to %q, want 303 to %s…\n%s", r.Request.Method, r.Request.URL, r.StatusCode, loc, prefix, r.Body)
	}
}

func TestFirstStartAdminChangesOneTimePassword(t *testing.T) {
	env := testenv.Start(t)
	node := env.Nodes[0]
	if env.AdminPassword == "" || !strings.Contains(node.Output(), node.Server.Config.BaseURL+"/login") {
		t.Fatalf("first start did not print the admin password and login URL:\n%s", node.Output())
	}
	c := testenv.NewClient(t)
	wantRedirect(t, c.Login(node, "admin@localhost", env.AdminPassword), "/password")
	wantRedirect(t, c.Get(node.URL+"/"), "/password")

	newPW := "a much better passphrase"
	form := url.Values{"current": {env.AdminPassword}, "new": {newPW}, "confirm": {"mismatch"}}
	wantStatus(t, c.Submit(node.URL+"/password", node.URL+"/password", form), http.StatusBadRequest)
	form.Set("confirm", newPW)
	wantRedirect(t, c.Submit(node.URL+"/password", node.URL+"/password", form), "/")

	home := c.Get(node.URL + "/")
	wantStatus(t, home, http.StatusOK)
	if !strings.Contains(home.Body, "admin@localhost") {
		t.Errorf("portal does not show who is signed in:\n%s", home.Body)
	}
	fresh := testenv.NewClient(t)
	wantStatus(t, fresh.Login(node, "admin@localhost", env.AdminPassword), http.StatusUnauthorized)
	wantRedirect(t, fresh.Login(node, "admin@localhost", newPW), "/")
}

func TestSecondStartReusesEverything(t *testing.T) {
	cfg := testenv.Base(t)
	cfg.MasterSecret = "" // generated in the data dir, as on a laptop
	ctx := context.Background()
	var out1, out2 strings.Builder
	s1, err := server.New(ctx, &cfg, server.Options{Out: &out1})
	if err != nil {
		t.Fatal(err)
	}
	cert1 := s1.Signing.Cert.Raw
	key1 := s1.Master.Derive("x", 16)
	s1.Close()
	s2, err := server.New(ctx, &cfg, server.Options{Out: &out2})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if !strings.Contains(out1.String(), "password:") || out2.String() != "" {
		t.Errorf("admin created again on second start:\nfirst: %s\nsecond: %s", out1.String(), out2.String())
	}
	if string(cert1) != string(s2.Signing.Cert.Raw) || string(key1) != string(s2.Master.Derive("x", 16)) {
		t.Error("second start generated new keys")
	}
	if _, total, _ := s2.Store.ListUsers(ctx, store.UserFilter{}); total != 1 {
		t.Errorf("%d users after two starts, want 1", total)
	}
}

func TestFailedLoginsLookAlike(t *testing.T) {
	env := testenv.Start(t)
	node := env.Nodes[0]
	env.AddUser(t, "alice@example.com", "alice's long password")
	bob := env.AddUser(t, "bob@example.com", "bob's long password")
	bob.Disabled = true
	if err := node.Server.Store.UpdateUser(context.Background(), bob); err != nil {
		t.Fatal(err)
	}
	c := testenv.NewClient(t)
	var bodies []string
	for _, try := range [][2]string{
		{"alice@example.com", "wrong password"},
		{"nobody@example.com", "whatever it is"},
		{"bob@example.com", "bob's long password"},
	} {
		r := c.Login(node, try[0], try[1])
		wantStatus(t, r, http.StatusUnauthorized)
		bodies = append(bodies, strings.ReplaceAll(r.Body, try[0], "EMAIL"))
	}
	for i := 1; i < len(bodies); i++ {
		if stripTokens(bodies[i]) != stripTokens(bodies[0]) {
			t.Errorf("failure page %d differs from page 0:\n%s\n---\n%s", i, bodies[i], bodies[0])
		}
	}
	events, err := node.Server.Store.ListEvents(context.Background(), store.EventFilter{Types: []string{audit.LoginFailed}})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, e := range events {
		reasons[e.Subject] = e.Reason
	}
	for who, want := range map[string]string{"alice@example.com": "wrong password",
		"nobody@example.com": "unknown user", "bob@example.com": "user disabled"} {
		if reasons[who] != want {
			t.Errorf("audit reason for %s = %q, want %q", who, reasons[who], want)
		}
	}
}

// stripTokens removes the per-response parts of a page (CSRF token,
// request id) so two pages can be compared.
func stripTokens(s string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, "_csrf") || strings.Contains(strings.ToLower(line), "request") {
			continue
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

func TestThrottlePerUserAndPerIP(t *testing.T) {
	env := testenv.Start(t, func(c *config.Config) {
		c.Login.MaxFailuresPerUser = 3
		c.Login.MaxFailuresPerIP = 5
	})
	node := env.Nodes[0]
	env.AddUser(t, "carol@example.com", "carol's long password")
	c := testenv.NewClient(t)
	for range 3 {
		wantStatus(t, c.Login(node, "carol@example.com", "nope nope nope"), http.StatusUnauthorized)
	}
	r := c.Login(node, "carol@example.com", "carol's long password")
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" || !strings.Contains(r.Body, "Try again in") {
		t.Errorf("throttled page does not say when to try again: Retry-After=%q\n%s", r.Header.Get("Retry-After"), r.Body)
	}
	// Two more failures for other names reach the per-IP limit of 5.
	wantStatus(t, c.Login(node, "x@example.com", "nope nope nope"), http.StatusUnauthorized)
	wantStatus(t, c.Login(node, "y@example.com", "nope nope nope"), http.StatusUnauthorized)
	wantStatus(t, c.Login(node, "z@example.com", "nope nope nope"), http.StatusTooManyRequests)
	events, _ := node.Server.Store.ListEvents(context.Background(), store.EventFilter{Types: []string{audit.LoginThrottled}})
	if len(events) != 2 {
		t.Errorf("%d throttle events, want 2", len(events))
	}
}

func TestLogout(t *testing.T) {
	env := testenv.Start(t)
	node := env.Nodes[0]
	env.AddUser(t, "dave@example.com", "dave's long password")
	c := testenv.NewClient(t)
	wantRedirect(t, c.Login(node, "dave@example.com", "dave's long password"), "/")
	wantStatus(t, c.Get(node.URL+"/"), http.StatusOK)

	confirm := c.Get(node.URL + "/logout")
	wantStatus(t, confirm, http.StatusOK)
	wantStatus(t, c.Get(node.URL+"/"), http.StatusOK) // GET /logout alone signs nobody out
	r := c.PostForm(node.URL+"/logout", url.Values{"_csrf": {c.CSRF(confirm)}})
	wantStatus(t, r, http.StatusOK)
	wantRedirect(t, c.Get(node.URL+"/"), "/login")
}

func TestFormsNeedCSRFToken(t *testing.T) {
	env := testenv.Start(t)
	node := env.Nodes[0]
	c := testenv.NewClient(t)
	c.Get(node.URL + "/login")
	r := c.PostForm(node.URL+"/login", url.Values{"email": {"admin@localhost"}, "password": {env.AdminPassword}})
	wantStatus(t, r, http.StatusForbidden)
}

func TestBadBodiesChangeNothing(t *testing.T) {
	env := testenv.Start(t)
	node := env.Nodes[0]
	c := testenv.NewClient(t)
	page := c.Get(node.URL + "/login")
	token := c.CSRF(page)
	big := url.Values{"_csrf": {token}, "email": {"a@b.c"}, "password": {strings.Repeat("x", 2<<20)}}
	wantStatus(t, c.PostForm(node.URL+"/login", big), http.StatusRequestEntityTooLarge)

	req, _ := http.NewRequest(http.MethodPost, node.URL+"/login", strings.NewReader("_csrf="+url.QueryEscape(token)+"&email=%zz"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", node.URL)
	wantStatus(t, c.Do(req), http.StatusBadRequest)

	events, _ := node.Server.Store.ListEvents(context.Background(), store.EventFilter{Types: []string{audit.LoginFailed}})
	if len(events) != 0 {
		t.Errorf("bad bodies wrote %d login events", len(events))
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	env := testenv.Start(t)
	node := env.Nodes[0]
	if r := node.Get(t, "/healthz"); r.StatusCode != http.StatusOK {
		t.Errorf("/healthz = %d", r.StatusCode)
	}
	r := node.Get(t, "/readyz")
	body, _ := io.ReadAll(r.Body)
	if r.StatusCode != http.StatusOK || !strings.Contains(string(body), `"store":"ok"`) {
		t.Errorf("/readyz = %d %s", r.StatusCode, body)
	}
	c := testenv.NewClient(t)
	c.Login(node, "admin@localhost", "wrong wrong wrong")
	m := node.Get(t, "/metrics")
	mb, _ := io.ReadAll(m.Body)
	for _, want := range []string{
		`portcullis_http_requests_total{code="401",method="POST",route="POST /login"} 1`,
		`portcullis_logins_total{outcome="failure"} 1`,
		`portcullis_session_store_duration_seconds_count{op="incr",result="ok"}`,
	} {
		if !strings.Contains(string(mb), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestSessionsExpireWhenIdle(t *testing.T) {
	env := testenv.Start(t, func(c *config.Config) {
		c.Sessions.IdleTimeout = config.Duration(time.Second)
		c.Sessions.AbsoluteTimeout = config.Duration(time.Hour)
	})
	node := env.Nodes[0]
	env.AddUser(t, "erin@example.com", "erin's long password")
	c := testenv.NewClient(t)
	wantRedirect(t, c.Login(node, "erin@example.com", "erin's long password"), "/")
	wantStatus(t, c.Get(node.URL+"/"), http.StatusOK)
	time.Sleep(1500 * time.Millisecond)
	wantRedirect(t, c.Get(node.URL+"/"), "/login")
}

func TestPromptLoginShowsFormToSignedInUser(t *testing.T) {
	env := testenv.Start(t)
	node := env.Nodes[0]
	env.AddUser(t, "kim@example.com", "kim's long password")
	c := testenv.NewClient(t)
	wantRedirect(t, c.Login(node, "kim@example.com", "kim's long password"), "/")
	wantRedirect(t, c.Get(node.URL+"/login?return=/x"), "/x")
	wantStatus(t, c.Get(node.URL+"/login?return=/x&prompt=login"), http.StatusOK)
}

package forwardauth_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/store"
)

// proxyHost is the host the built-in proxy serves in these tests; the client
// dials the node's loopback address and names proxyHost in Host.
const proxyHost = "app.test"

var proxyRules = []config.Rule{
	{Host: proxyHost, Path: "/public/*", Policy: "bypass"},
	{Host: proxyHost, Path: "/admin/*", Policy: "two_factor"},
	{Host: proxyHost, Path: "/forbidden/*", Policy: "deny"},
	{Host: proxyHost, Path: "/staff/*", Policy: "one_factor", Groups: []string{"staff"}},
	{Host: proxyHost, Policy: "one_factor"},
}

// proxyApp is the upstream: it records what reached it and answers, besides
// plain pages, a WebSocket echo on /ws and a server-sent event stream on
// /events.
type proxyApp struct {
	*httptest.Server
	hits atomic.Int64

	mu   sync.Mutex
	seen *http.Request
	body string

	// release lets /events send its second event.
	release chan struct{}
}

func startProxyApp(t *testing.T) *proxyApp {
	t.Helper()
	a := &proxyApp{release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", a.websocket)
	mux.HandleFunc("/events", a.events)
	mux.HandleFunc("/", a.page)
	a.Server = httptest.NewServer(mux)
	t.Cleanup(a.Close)
	return a
}

func (a *proxyApp) record(r *http.Request) {
	a.hits.Add(1)
	b, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seen, a.body = r.Clone(context.Background()), string(b)
}

func (a *proxyApp) last(t *testing.T) (*http.Request, string) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen == nil {
		t.Fatal("the app received no request")
	}
	return a.seen, a.body
}

func (a *proxyApp) page(w http.ResponseWriter, r *http.Request) {
	a.record(r)
	w.Header().Set("X-App", "yes")
	w.Header().Set("X-Request-ID", "the-app's-own-id")
	fmt.Fprintf(w, "app page %s", r.URL.Path)
}

func (a *proxyApp) events(w http.ResponseWriter, r *http.Request) {
	a.record(r)
	w.Header().Set("Content-Type", "text/event-stream")
	fmt.Fprint(w, "data: one\n\n")
	http.NewResponseController(w).Flush()
	select {
	case <-a.release:
	case <-r.Context().Done():
		return
	}
	fmt.Fprint(w, "data: two\n\n")
}

// websocket answers the RFC 6455 handshake and echoes frames until a close
// frame or the end of the connection.
func (a *proxyApp) websocket(w http.ResponseWriter, r *http.Request) {
	a.record(r)
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "not a websocket handshake", http.StatusBadRequest)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: %s\r\n\r\n", wsAccept(r.Header.Get("Sec-WebSocket-Key")))
	if brw.Flush() != nil {
		return
	}
	for {
		op, payload, err := wsReadFrame(brw.Reader)
		if err != nil {
			return
		}
		if wsWriteFrame(conn, op, payload, nil) != nil || op == 0x8 {
			return
		}
	}
}

// wsAccept is Sec-WebSocket-Accept for key (RFC 6455 §4.2.2).
func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// wsReadFrame reads one unfragmented frame (RFC 6455 §5.2), unmasking it.
func wsReadFrame(r *bufio.Reader) (byte, []byte, error) {
	var hd [2]byte
	if _, err := io.ReadFull(r, hd[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(hd[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	var mask [4]byte
	masked := hd[1]&0x80 != 0
	if masked {
		if _, err := io.ReadFull(r, mask[:]); err != nil {
			return 0, nil, err
		}
	}
	if n > 1<<20 {
		return 0, nil, fmt.Errorf("frame of %d bytes", n)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	if masked {
		for i := range payload {
			payload[i] ^= mask[i%4]
		}
	}
	return hd[0] & 0x0f, payload, nil
}

// wsWriteFrame writes one final frame; a client masks (mask non-nil), a
// server does not.
func wsWriteFrame(w io.Writer, op byte, payload, mask []byte) error {
	out := []byte{0x80 | op}
	bit := byte(0)
	if mask != nil {
		bit = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		out = append(out, bit|byte(n))
	case n <= 0xffff:
		out = append(out, bit|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, bit|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if mask != nil {
		out = append(out, mask...)
		for i, b := range payload {
			out = append(out, b^mask[i%4])
		}
	} else {
		out = append(out, payload...)
	}
	_, err := w.Write(out)
	return err
}

func proxyOptions(upstream string) testenv.Option {
	return func(c *config.Config) {
		c.ForwardAuth.Upstreams = []config.Upstream{{Host: proxyHost, URL: upstream}}
		c.ForwardAuth.Rules = proxyRules
	}
}

// proxyRequest is a request for path on the app, sent to the node.
func proxyRequest(t *testing.T, node *testenv.Node, method, path string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, node.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = proxyHost
	return req
}

func proxySignedIn(t *testing.T, env *testenv.Env, email string) (*testenv.Client, store.User) {
	t.Helper()
	u := env.AddUser(t, email, email+" long password")
	c := testenv.NewClient(t)
	if r := c.Login(env.Nodes[0], email, email+" long password"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login = %d, want 303:\n%s", r.StatusCode, r.Body)
	}
	proxyShareSession(t, env, c)
	return c, u
}

// proxyShareSession gives the client's session cookie to the app's host too, as
// a browser holds it when sessions.cookie_domain covers both hosts (the
// client picks cookies by Host, and 127.0.0.1 and app.test share no domain).
func proxyShareSession(t *testing.T, env *testenv.Env, c *testenv.Client) {
	t.Helper()
	app := &url.URL{Scheme: "http", Host: proxyHost, Path: "/"}
	for _, ck := range c.Cookies(env.Nodes[0]) {
		if ck.Name == env.Config.Sessions.CookieName {
			c.HTTP.Jar.SetCookies(app, []*http.Cookie{ck})
			return
		}
	}
	t.Fatal("the client holds no session cookie")
}

func proxyWant(t *testing.T, r *testenv.Response, code int) {
	t.Helper()
	if r.StatusCode != code {
		t.Fatalf("%s %s = %d, want %d:\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, code, r.Body)
	}
}

func proxyStartURL(node *testenv.Node, target string) string {
	return node.URL + "/auth/start?rd=" + url.QueryEscape(target)
}

func TestProxySignInThenThrough(t *testing.T) {
	app := startProxyApp(t)
	env := testenv.Start(t, proxyOptions(app.URL))
	node := env.Nodes[0]
	env.AddUser(t, "ana@example.com", "ana's long password")
	c := testenv.NewClient(t)

	r := c.Do(proxyRequest(t, node, http.MethodGet, "/docs/page?x=1", nil))
	proxyWant(t, r, http.StatusFound)
	if got, want := r.Header.Get("Location"), proxyStartURL(node, "http://app.test/docs/page?x=1"); got != want {
		t.Fatalf("Location = %q, want %q", got, want)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("redirect Cache-Control = %q, want no-store", r.Header.Get("Cache-Control"))
	}
	if r.Header.Get("Content-Security-Policy") == "" {
		t.Error("the proxy's own answer lacks the gateway's security headers")
	}
	if n := app.hits.Load(); n != 0 {
		t.Fatalf("the app was called %d times without a session", n)
	}

	// /auth/start sends the browser to sign in, and after it back to the app.
	r = c.Get(r.Header.Get("Location"))
	proxyWant(t, r, http.StatusSeeOther)
	if !strings.HasPrefix(r.Header.Get("Location"), "/login?return=") {
		t.Fatalf("/auth/start without a session → %q, want /login", r.Header.Get("Location"))
	}
	proxyWant(t, c.Login(node, "ana@example.com", "ana's long password"), http.StatusSeeOther)
	proxyShareSession(t, env, c)
	r = c.Get(proxyStartURL(node, "http://app.test/docs/page?x=1"))
	proxyWant(t, r, http.StatusSeeOther)
	if got := r.Header.Get("Location"); got != "http://app.test/docs/page?x=1" {
		t.Fatalf("/auth/start after sign-in → %q", got)
	}

	r = c.Do(proxyRequest(t, node, http.MethodGet, "/docs/page?x=1", nil))
	proxyWant(t, r, http.StatusOK)
	if r.Body != "app page /docs/page" || r.Header.Get("X-App") != "yes" {
		t.Fatalf("proxied answer = %q (X-App %q)", r.Body, r.Header.Get("X-App"))
	}
	seen, _ := app.last(t)
	if seen.Header.Get("Remote-User") != "ana@example.com" || seen.URL.RawQuery != "x=1" {
		t.Fatalf("app saw Remote-User %q, query %q", seen.Header.Get("Remote-User"), seen.URL.RawQuery)
	}

	// The gateway's own routes still answer on its own host, and proxied
	// requests are counted under the app's host.
	metrics := c.Get(node.URL + "/metrics")
	proxyWant(t, metrics, http.StatusOK)
	if !strings.Contains(metrics.Body, `route="app.test/"`) {
		t.Error(`/metrics has no route="app.test/" series for proxied requests`)
	}
}

func TestProxyReplacesForgedIdentity(t *testing.T) {
	app := startProxyApp(t)
	env := testenv.Start(t, proxyOptions(app.URL))
	node := env.Nodes[0]
	c, u := proxySignedIn(t, env, "bo@example.com")
	ctx := context.Background()
	g := store.Group{Name: "staff"}
	if err := node.Server.Store.CreateGroup(ctx, &g); err != nil {
		t.Fatal(err)
	}
	if err := node.Server.Store.AddMember(ctx, g.ID, u.ID); err != nil {
		t.Fatal(err)
	}

	req := proxyRequest(t, node, http.MethodGet, "/staff/home", nil)
	for _, k := range []string{"Remote-User", "remote-user", "REMOTE-USER", "Remote_User", "remote-groups", "Remote-Admin"} {
		req.Header[k] = []string{"mallory@example.com"}
	}
	req.Header.Set("Cookie", "theme=dark")
	req.Header.Set("X-Forwarded-For", "198.51.100.66")
	req.Header.Set("X-Real-IP", "198.51.100.66")
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("Forwarded", "for=198.51.100.66")
	r := c.Do(req)
	proxyWant(t, r, http.StatusOK)

	seen, _ := app.last(t)
	want := map[string]string{
		"Remote-User": "bo@example.com", "Remote-Email": "bo@example.com", "Remote-Name": "Test bo@example.com",
		"Remote-Groups": "staff", "X-Forwarded-For": "127.0.0.1", "X-Real-Ip": "127.0.0.1",
		"X-Forwarded-Host": proxyHost, "X-Forwarded-Proto": "http",
	}
	for k, v := range want {
		if got := seen.Header.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("app saw %s = %q, want just %q", k, got, v)
		}
	}
	for k := range seen.Header {
		if n := strings.ToLower(strings.ReplaceAll(k, "_", "-")); strings.HasPrefix(n, "remote-") && want[k] == "" {
			t.Errorf("the client's %s header reached the app", k)
		}
	}
	if seen.Header.Get("Forwarded") != "" {
		t.Errorf("the client's Forwarded header reached the app: %q", seen.Header.Get("Forwarded"))
	}
	if seen.Host != proxyHost {
		t.Errorf("app saw Host %q, want %q", seen.Host, proxyHost)
	}
	if _, err := seen.Cookie("portcullis_session"); err == nil {
		t.Error("the gateway's session cookie reached the app")
	}
	if ck, err := seen.Cookie("theme"); err != nil || ck.Value != "dark" {
		t.Errorf("the app's own cookie did not pass: %v", err)
	}
	if got := r.Header.Values("X-Request-ID"); len(got) != 1 || got[0] != seen.Header.Get("X-Request-ID") {
		t.Errorf("browser got X-Request-ID %q, the app was sent %q", got, seen.Header.Get("X-Request-ID"))
	}
	if r.Header.Get("Content-Security-Policy") != "" {
		t.Error("the gateway's Content-Security-Policy was added to the app's response")
	}
}

func TestProxyBypassCarriesNoIdentity(t *testing.T) {
	app := startProxyApp(t)
	env := testenv.Start(t, proxyOptions(app.URL))
	c := testenv.NewClient(t)
	req := proxyRequest(t, env.Nodes[0], http.MethodGet, "/public/logo.png", nil)
	req.Header["remote-user"] = []string{"mallory@example.com"}
	proxyWant(t, c.Do(req), http.StatusOK)
	seen, _ := app.last(t)
	if got := seen.Header.Values("Remote-User"); len(got) != 0 {
		t.Errorf("bypassed request reached the app with Remote-User %q", got)
	}
}

func TestProxyTrustedProxyForwardedHeaders(t *testing.T) {
	app := startProxyApp(t)
	env := testenv.Start(t, proxyOptions(app.URL), func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1"} })
	node := env.Nodes[0]

	anon := testenv.NewClient(t)
	anon.Header.Set("X-Forwarded-Proto", "https")
	r := anon.Do(proxyRequest(t, node, http.MethodGet, "/x", nil))
	proxyWant(t, r, http.StatusFound)
	if got, want := r.Header.Get("Location"), proxyStartURL(node, "https://app.test/x"); got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}

	c, _ := proxySignedIn(t, env, "cy@example.com")
	req := proxyRequest(t, node, http.MethodGet, "/x", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	req.Header.Set("X-Forwarded-Proto", "https")
	proxyWant(t, c.Do(req), http.StatusOK)
	seen, _ := app.last(t)
	for k, v := range map[string]string{"X-Forwarded-For": "203.0.113.9, 127.0.0.1", "X-Forwarded-Proto": "https", "X-Real-Ip": "203.0.113.9"} {
		if got := seen.Header.Get(k); got != v {
			t.Errorf("app saw %s = %q, want %q", k, got, v)
		}
	}
}

func TestProxyStepUpForTwoFactorRule(t *testing.T) {
	app := startProxyApp(t)
	env := testenv.Start(t, proxyOptions(app.URL))
	node := env.Nodes[0]
	c, _ := proxySignedIn(t, env, "di@example.com")

	r := c.Do(proxyRequest(t, node, http.MethodGet, "/admin/users", nil))
	proxyWant(t, r, http.StatusFound)
	if got, want := r.Header.Get("Location"), proxyStartURL(node, "http://app.test/admin/users"); got != want {
		t.Fatalf("Location = %q, want %q", got, want)
	}
	r = c.Get(r.Header.Get("Location"))
	proxyWant(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, "/mfa?c=") {
		t.Fatalf("/auth/start for a two_factor rule → %q, want the step-up at /mfa", loc)
	}
	if n := app.hits.Load(); n != 0 {
		t.Fatalf("the app was called %d times before the second factor", n)
	}
}

func TestProxyRefusals(t *testing.T) {
	app := startProxyApp(t)
	env := testenv.Start(t, proxyOptions(app.URL))
	node := env.Nodes[0]
	anon := testenv.NewClient(t)
	c, _ := proxySignedIn(t, env, "ed@example.com")

	for _, tc := range []struct {
		name   string
		client *testenv.Client
		method string
		path   string
		want   int
	}{
		{"deny rule", c, http.MethodGet, "/forbidden/x", http.StatusForbidden},
		{"not in the rule's group", c, http.MethodGet, "/staff/home", http.StatusForbidden},
		{"POST without a session", anon, http.MethodPost, "/form", http.StatusUnauthorized},
		{"DELETE without a session", anon, http.MethodDelete, "/item/1", http.StatusUnauthorized},
		{"dot segment", c, http.MethodGet, "/public/../admin/users", http.StatusBadRequest},
		{"empty segment", c, http.MethodGet, "/public//x", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.client.Do(proxyRequest(t, node, tc.method, tc.path, strings.NewReader("a=1")))
			proxyWant(t, r, tc.want)
			if r.Header.Get("Location") != "" {
				t.Errorf("refusal carries Location %q", r.Header.Get("Location"))
			}
		})
	}
	if n := app.hits.Load(); n != 0 {
		t.Fatalf("the app was called %d times for refused requests", n)
	}

	r := c.Do(proxyRequest(t, node, http.MethodPost, "/form", strings.NewReader("a=1")))
	proxyWant(t, r, http.StatusOK)
	if _, body := app.last(t); body != "a=1" {
		t.Errorf("app got POST body %q, want a=1", body)
	}
}

func TestProxyDisabledUserRefusedOnNextRequest(t *testing.T) {
	app := startProxyApp(t)
	env := testenv.Start(t, proxyOptions(app.URL))
	node := env.Nodes[0]
	c, u := proxySignedIn(t, env, "flo@example.com")
	proxyWant(t, c.Do(proxyRequest(t, node, http.MethodGet, "/x", nil)), http.StatusOK)

	u.Disabled = true
	if err := node.Server.Store.UpdateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	r := c.Do(proxyRequest(t, node, http.MethodGet, "/x", nil))
	proxyWant(t, r, http.StatusFound)
	if !strings.HasPrefix(r.Header.Get("Location"), node.URL+"/auth/start?") {
		t.Errorf("disabled user sent to %q", r.Header.Get("Location"))
	}
	if n := app.hits.Load(); n != 1 {
		t.Errorf("the app was called %d times, want once (before the user was disabled)", n)
	}
}

func TestProxySessionBackendDownAnswers503(t *testing.T) {
	app := startProxyApp(t)
	rds := testenv.StartPrivateRedis(t)
	env := testenv.Start(t, proxyOptions(app.URL), func(c *config.Config) {
		c.Sessions.Store = "redis"
		c.Sessions.RedisURL = rds.URL()
	})
	node := env.Nodes[0]
	c, _ := proxySignedIn(t, env, "gus@example.com")
	proxyWant(t, c.Do(proxyRequest(t, node, http.MethodGet, "/x", nil)), http.StatusOK)

	rds.Stop()
	node.WaitMemo(t, false) // as soon as the node sees the connection close
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		r := c.Do(proxyRequest(t, node, method, "/x", nil))
		proxyWant(t, r, http.StatusServiceUnavailable)
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("%s 503 without Retry-After", method)
		}
	}
	if n := app.hits.Load(); n != 1 {
		t.Errorf("the app was called %d times, want once (before Redis went down)", n)
	}
}

func TestProxyUpstreamDownAnswers502(t *testing.T) {
	// An upstream that drops every connection. (A port listened on and
	// closed again could be handed to the node itself, which would then
	// proxy to itself.)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()
	dead := "http://" + ln.Addr().String()
	env := testenv.Start(t, proxyOptions(dead))
	c, _ := proxySignedIn(t, env, "hal@example.com")
	r := c.Do(proxyRequest(t, env.Nodes[0], http.MethodGet, "/x", nil))
	proxyWant(t, r, http.StatusBadGateway)
	if !strings.Contains(r.Body, "Bad gateway") || r.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("502 is not the gateway's page:\n%s", r.Body)
	}
}

func TestProxyWebSocket(t *testing.T) {
	app := startProxyApp(t)
	env := testenv.Start(t, proxyOptions(app.URL))
	node := env.Nodes[0]
	c, _ := proxySignedIn(t, env, "ida@example.com")

	conn, err := net.Dial("tcp", strings.TrimPrefix(node.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A guard against a hang, not a timing assertion.
	conn.SetDeadline(time.Now().Add(30 * time.Second))

	req := proxyRequest(t, node, http.MethodGet, "/ws", nil)
	key := base64.StdEncoding.EncodeToString([]byte(rand.Text()[:16]))
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Key", key)
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header["remote-user"] = []string{"mallory@example.com"}
	for _, ck := range c.Cookies(node) {
		req.AddCookie(ck)
	}
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != wsAccept(key) {
		t.Fatalf("handshake = %d, accept %q", resp.StatusCode, resp.Header.Get("Sec-WebSocket-Accept"))
	}
	seen, _ := app.last(t)
	if got := seen.Header.Values("Remote-User"); len(got) != 1 || got[0] != "ida@example.com" {
		t.Errorf("app saw Remote-User %q on the handshake", got)
	}

	for _, msg := range []string{"hello through the gateway", strings.Repeat("x", 70000)} {
		if err := wsWriteFrame(conn, 0x1, []byte(msg), []byte{1, 2, 3, 4}); err != nil {
			t.Fatal(err)
		}
		op, got, err := wsReadFrame(br)
		if err != nil {
			t.Fatal(err)
		}
		if op != 0x1 || string(got) != msg {
			t.Fatalf("echo = op %d, %d bytes, want a text frame of %d", op, len(got), len(msg))
		}
	}
	wsWriteFrame(conn, 0x8, nil, []byte{1, 2, 3, 4})
	if op, _, err := wsReadFrame(br); err != nil || op != 0x8 {
		t.Errorf("close echo = op %d, %v", op, err)
	}
}

func TestProxyWebSocketNeedsSession(t *testing.T) {
	app := startProxyApp(t)
	env := testenv.Start(t, proxyOptions(app.URL))
	req := proxyRequest(t, env.Nodes[0], http.MethodGet, "/ws", nil)
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Key", base64.StdEncoding.EncodeToString([]byte(rand.Text()[:16])))
	req.Header.Set("Sec-WebSocket-Version", "13")
	proxyWant(t, testenv.NewClient(t).Do(req), http.StatusFound)
	if n := app.hits.Load(); n != 0 {
		t.Fatalf("the app was called %d times", n)
	}
}

// TestProxyStreamsServerSentEvents reads the first event while the app
// still holds the stream open: the app sends the second only after the
// test has the first, so a proxy that buffered would never deliver it.
func TestProxyStreamsServerSentEvents(t *testing.T) {
	app := startProxyApp(t)
	env := testenv.Start(t, proxyOptions(app.URL))
	c, _ := proxySignedIn(t, env, "jo@example.com")

	// A guard against a hang, not a timing assertion.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := proxyRequest(t, env.Nodes[0], http.MethodGet, "/events", nil).WithContext(ctx)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events = %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "data: one\n" {
		t.Fatalf("first event = %q, %v: it did not arrive while the stream was open", line, err)
	}
	close(app.release)
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "\ndata: two\n\n" {
		t.Fatalf("rest of the stream = %q, %v", rest, err)
	}
}

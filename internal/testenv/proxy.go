package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/portcullis/portcullis/web/webtest"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// StartNamed runs one node like Start, but as http://host:PORT. host is a
// name under .test that nothing resolves: clients reach it through
// DialLoopback, as a browser with a hosts file would. Forward-auth tests use
// it so the gateway and the apps it protects share a parent domain
// (sessions.cookie_domain), which an IP address cannot.
func StartNamed(t testing.TB, host string, opts ...Option) *Env {
	t.Helper()
	cfg := Base(t)
	for _, o := range opts {
		o(&cfg)
	}
	return startOn(t, cfg, 1, host)
}

// DialLoopback makes the client connect to 127.0.0.1, on the URL's port,
// whatever host a URL names, while URLs, Host headers and cookies keep the
// names: every name resolves to loopback (Chromium's host-resolver-rules
// in NewBrowser do the same).
func (c *Client) DialLoopback() {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
	}
	c.HTTP.Transport = tr
}

// FreeAddr returns a loopback address ("127.0.0.1:PORT") that was free a
// moment ago, for servers that take their address from a config file.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Echo is an app behind a proxy that answers every request with what it
// received, as JSON (EchoedRequest), and counts the requests that reached
// it.
type Echo struct {
	URL  string // http://127.0.0.1:PORT
	hits atomic.Int64
}

// EchoedRequest is an Echo answer.
type EchoedRequest struct {
	Method string      `json:"method"`
	Host   string      `json:"host"`
	URI    string      `json:"uri"`
	Header http.Header `json:"header"`
}

// StartEcho starts an Echo on loopback, closed when the test ends.
func StartEcho(t testing.TB) *Echo {
	e := &Echo{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(EchoedRequest{Method: r.Method, Host: r.Host, URI: r.RequestURI, Header: r.Header})
	}))
	t.Cleanup(srv.Close)
	e.URL = srv.URL
	return e
}

// Hits is how many requests reached the app.
func (e *Echo) Hits() int64 { return e.hits.Load() }

// Echoed decodes an Echo answer, failing the test when body is not one.
func Echoed(t testing.TB, body string) EchoedRequest {
	t.Helper()
	var r EchoedRequest
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("not an answer of the echo app: %v\n%s", err, body)
	}
	return r
}

// RequireTool returns the path of an external program, looking in
// /usr/sbin and /sbin too (where Debian puts nginx, off a user's PATH).
// Without it the test skips, naming the Debian package, or fails under
// GATEWAY_TEST_REQUIRE_SERVICES=1 (DESIGN.md §7).
func RequireTool(t testing.TB, name, debianPackage string) string {
	t.Helper()
	if path, err := exec.LookPath(name); err == nil {
		return path
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		if p := filepath.Join(dir, name); isExecutable(p) {
			return p
		}
	}
	if os.Getenv("GATEWAY_TEST_REQUIRE_SERVICES") == "1" {
		t.Fatalf("%s is not installed (Debian package %s) and GATEWAY_TEST_REQUIRE_SERVICES=1", name, debianPackage)
	}
	t.Skipf("%s is not installed (Debian package %s)", name, debianPackage)
	return ""
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// Proxy is a real reverse proxy (nginx, Caddy) run by a test from a
// directory of its own, listening on Addr.
type Proxy struct {
	Addr string
	Dir  string
	cmd  *exec.Cmd
	out  *webtest.LogBuffer
	done chan struct{}
}

// StartNginx runs nginx in the foreground from a fresh prefix directory,
// with http, a block of nginx http-context directives (server blocks), in
// a main configuration of its own: pid file, logs and temp paths inside the
// directory, one worker, and the invoking user (root included) as the
// worker user, so it needs no system directories. addr is where http
// listens; StartNginx waits until it accepts connections.
func StartNginx(t testing.TB, addr, http string) *Proxy {
	t.Helper()
	bin := RequireTool(t, "nginx", "nginx")
	dir := t.TempDir()
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(nginxMain(dir, http)), 0o600); err != nil {
		t.Fatal(err)
	}
	return startProxy(t, "nginx", addr, dir, exec.Command(bin, "-p", dir+"/", "-e", filepath.Join(dir, "error.log"),
		"-c", conf, "-g", "daemon off;"))
}

func nginxMain(dir, http string) string {
	user := ""
	if os.Geteuid() == 0 {
		// Workers would drop to nobody, who cannot enter the test's 0700
		// temp directory.
		user = "user root root;\n"
	}
	return fmt.Sprintf(`%sworker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log info;
events { worker_connections 256; }
http {
    access_log %[2]s/access.log;
    client_body_temp_path %[2]s/client_body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;

%[3]s
}
`, user, dir, http)
}

// StartCaddy runs caddy (caddy run, Caddyfile adapter) with site, the
// Caddyfile's site blocks, after global options of its own: admin endpoint
// off, no automatic HTTPS, listeners bound to loopback, storage and
// autosave inside a fresh directory. addr is where a site listens;
// StartCaddy waits until it accepts connections.
func StartCaddy(t testing.TB, addr, site string) *Proxy {
	t.Helper()
	bin := RequireTool(t, "caddy", "caddy")
	dir := t.TempDir()
	file := filepath.Join(dir, "Caddyfile")
	global := fmt.Sprintf("{\n\tadmin off\n\tauto_https off\n\tdefault_bind 127.0.0.1\n\tstorage file_system %s\n}\n\n",
		filepath.Join(dir, "data"))
	if err := os.WriteFile(file, []byte(global+site), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", file, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"XDG_DATA_HOME="+filepath.Join(dir, "data"))
	return startProxy(t, "caddy", addr, dir, cmd)
}

// startProxy starts cmd, stopped gracefully when the test ends, and waits
// until addr accepts connections; if the program exits first, the test
// fails with its output.
func startProxy(t testing.TB, name, addr, dir string, cmd *exec.Cmd) *Proxy {
	t.Helper()
	p := &Proxy{Addr: addr, Dir: dir, cmd: cmd, out: &webtest.LogBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	// Cleanups run last first: the proxy stops, then a failed test gets
	// what it logged.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s output:\n%s\n%s error.log:\n%s", name, p.out.String(), name, p.Log("error.log"))
		}
	})
	t.Cleanup(p.stop)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited before listening on %s:\n%s%s", name, addr, p.out.String(), p.Log("error.log"))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s within 15s:\n%s%s", name, addr, p.out.String(), p.Log("error.log"))
		}
	}
}

// stop asks the proxy to finish (SIGTERM to its process group: nginx's
// master and workers, or caddy) and kills it if it has not within 10s.
func (p *Proxy) stop() {
	pgid := p.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
}

// Output is what the proxy printed (Caddy logs there).
func (p *Proxy) Output() string { return p.out.String() }

// Log returns a file the proxy wrote in its directory (nginx's error.log,
// access.log), or "" if there is none.
func (p *Proxy) Log(name string) string {
	b, err := os.ReadFile(filepath.Join(p.Dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		return err.Error()
	}
	return strings.TrimSpace(string(b))
}

package main

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/internal/testenv"
)

// TestCLIWorksWhileServerRuns runs admin commands against the data dir of a
// running node: a user the CLI adds can sign in, and a user the CLI disables
// is signed out on the next request, although the node keeps its sessions
// in memory where the CLI cannot reach them.
func TestCLIWorksWhileServerRuns(t *testing.T) {
	env := testenv.Start(t)
	node := env.Nodes[0]
	e := []string{"GATEWAY_DATA_DIR=" + env.Config.DataDir,
		"GATEWAY_PASSWORDS_ARGON2_MEMORY_KIB=8192", "GATEWAY_PASSWORDS_ARGON2_ITERATIONS=1"}
	mustRun(t, e, "hanna's long password\n", "users", "add", "hanna@example.com", "--password-stdin")

	c := testenv.NewClient(t)
	if r := c.Login(node, "hanna@example.com", "hanna's long password"); r.StatusCode != http.StatusSeeOther ||
		r.Header.Get("Location") != "/" {
		t.Fatalf("login of CLI-made user = %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if r := c.Get(node.URL + "/"); r.StatusCode != http.StatusOK {
		t.Fatalf("portal = %d", r.StatusCode)
	}
	mustRun(t, e, "", "users", "disable", "hanna@example.com")
	if r := c.Get(node.URL + "/"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("portal after CLI disable = %d, want redirect to sign-in", r.StatusCode)
	}
	var users []userView
	decode(t, mustRun(t, e, "", "users", "list", "--json").stdout, &users)
	if len(users) != 2 || users[0].Email != "admin@localhost" {
		t.Errorf("CLI sees %+v, want the bootstrap admin and hanna", users)
	}
}

// TestServeDrainsOnSIGTERM runs the real binary: it serves on the embedded
// defaults (bar the port and data dir), and SIGTERM makes it exit 0.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "gateway")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GATEWAY_LISTEN="+addr, "GATEWAY_BASE_URL=http://"+addr)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitHealthy(t, "http://"+addr)
	if _, err := os.Stat(filepath.Join(dir, "data", "portcullis.db")); err != nil {
		t.Errorf("no SQLite database in ./data: %v", err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, out.String())
		}
		if !strings.Contains(out.String(), "password:") {
			t.Errorf("first start did not print the admin password:\n%s", out.String())
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("still running 20s after SIGTERM\n%s", out.String())
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitHealthy(t *testing.T, base string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u, _ := url.JoinPath(base, "/healthz")
	for ctx.Err() == nil {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never became healthy", base)
}

// TestCLIDisableEndsSessionsOnEveryNode runs the CLI against a two-node
// cluster's PostgreSQL and Redis: `users disable` ends the user's session
// on both nodes at once.
func TestCLIDisableEndsSessionsOnEveryNode(t *testing.T) {
	env := testenv.StartCluster(t, 2)
	a, b := env.Nodes[0], env.Nodes[1]
	jo := env.AddUser(t, "jo@example.com", "jo's long password here")
	e := []string{"GATEWAY_DATA_DIR=" + t.TempDir(), "GATEWAY_DATABASE=" + env.Config.Database,
		"GATEWAY_SESSIONS_STORE=redis", "GATEWAY_SESSIONS_REDIS_URL=" + env.Config.Sessions.RedisURL}
	c := testenv.NewClient(t)
	if r := c.Login(a, "jo@example.com", "jo's long password here"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login = %d", r.StatusCode)
	}
	if r := c.Get(b.URL + "/"); r.StatusCode != http.StatusOK {
		t.Fatalf("portal on B = %d", r.StatusCode)
	}
	mustRun(t, e, "", "users", "disable", "jo@example.com")
	for _, n := range []*testenv.Node{a, b} {
		if r := c.Get(n.URL + "/"); r.StatusCode != http.StatusSeeOther {
			t.Errorf("portal on %s after CLI disable = %d, want redirect to sign-in", n.URL, r.StatusCode)
		}
	}
	// The CLI removed the records from Redis itself: nothing is left to revoke.
	left, err := a.Server.Sessions.RevokeUser(context.Background(), jo.ID)
	if err != nil || left != 0 {
		t.Errorf("after CLI disable %d sessions were still in Redis (err %v), want 0", left, err)
	}
}

// TestCLIGroupChangeReachesForwardAuthMemo: both nodes of a cluster answer
// a session's forward-auth requests from memory; `groups members --remove`
// from the CLI, which ends no session, still holds on the very next
// request on both, because the CLI announces its write to the directory.
func TestCLIGroupChangeReachesForwardAuthMemo(t *testing.T) {
	env := testenv.StartCluster(t, 2, func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1"}
		c.ForwardAuth.Rules = []config.Rule{{Host: "app.test", Policy: "one_factor", Groups: []string{"staff"}}}
	})
	e := []string{"GATEWAY_DATA_DIR=" + t.TempDir(), "GATEWAY_DATABASE=" + env.Config.Database,
		"GATEWAY_SESSIONS_STORE=redis", "GATEWAY_SESSIONS_REDIS_URL=" + env.Config.Sessions.RedisURL}
	env.AddUser(t, "kai@example.com", "kai's long password here")
	mustRun(t, e, "", "groups", "add", "staff")
	mustRun(t, e, "", "groups", "members", "staff", "--add", "kai@example.com")
	c := testenv.NewClient(t)
	if r := c.Login(env.Nodes[0], "kai@example.com", "kai's long password here"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login = %d", r.StatusCode)
	}
	ask := func(n *testenv.Node) int {
		req, _ := http.NewRequest(http.MethodGet, n.URL+"/auth/request", nil)
		req.Header.Set("X-Original-URL", "https://app.test/x")
		return c.Do(req).StatusCode
	}
	for _, n := range env.Nodes {
		n.WantMemoHit(t, func() int { return ask(n) }, nil)
	}
	mustRun(t, e, "", "groups", "members", "staff", "--remove", "kai@example.com")
	for _, n := range env.Nodes {
		if got := ask(n); got != http.StatusForbidden {
			t.Errorf("%s: /auth/request after the CLI removed the user from staff = %d, want 403", n.URL, got)
		}
	}
}

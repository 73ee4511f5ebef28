// Package testenv starts the whole gateway in-process for end-to-end tests:
// one node on SQLite and in-memory sessions, or several nodes sharing one
// Redis and one PostgreSQL when GATEWAY_TEST_REDIS_URL and
// GATEWAY_TEST_POSTGRES_URL are set. Each environment gets its own data
// directory, its own PostgreSQL schema and its own Redis key prefix, so
// test packages can run at once against the same servers.
//
// Services follow DESIGN.md §7: without the variable a test that needs the
// service skips, naming the variable; with GATEWAY_TEST_REQUIRE_SERVICES=1
// the skip becomes a failure.
//
// Layer 3, for tests only.
package testenv

import (
	"context"
	"crypto/rand"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/internal/server"
	sessionredis "github.com/portcullis/portcullis/session/redis"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web/webtest"
)

// Env is a running gateway of one or more nodes.
type Env struct {
	Nodes  []*Node
	Config config.Config
	// AdminPassword is the one-time password printed on first start.
	AdminPassword string
}

// Node is one gateway node listening on loopback.
type Node struct {
	Server *server.Server
	URL    string

	cancel context.CancelFunc
	done   chan error
	out    *webtest.LogBuffer
}

// Option changes the configuration before the nodes start.
type Option func(*config.Config)

// Base returns the configuration every environment starts from: the
// defaults, a fresh data dir, a fixed master secret shared by all nodes,
// and cheap argon2 parameters so tests stay fast.
func Base(t testing.TB) config.Config {
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.MasterSecret = rand.Text() + rand.Text()
	cfg.Passwords.Argon2 = config.Argon2{MemoryKiB: 8 * 1024, Iterations: 1, Parallelism: 1}
	// Longer than net/http's 5 s grace for connections that never sent a
	// request, so a client that leaves one open cannot fail the stop.
	cfg.ShutdownTimeout = config.Duration(10 * time.Second)
	cfg.Log.Level = "warn"
	return cfg
}

// Start runs one node on SQLite and in-memory sessions.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	cfg := Base(t)
	for _, o := range opts {
		o(&cfg)
	}
	return start(t, cfg, 1)
}

// StartCluster runs n nodes sharing one PostgreSQL schema and one Redis key
// prefix, made fresh for this test.
func StartCluster(t testing.TB, n int, opts ...Option) *Env {
	t.Helper()
	return start(t, clusterConfig(t, opts), n)
}

// clusterConfig is Base on a fresh PostgreSQL schema and Redis key prefix,
// with opts applied.
func clusterConfig(t testing.TB, opts []Option) config.Config {
	t.Helper()
	cfg := Base(t)
	cfg.Database = PostgresSchema(t)
	RedisSessions(t)(&cfg)
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

func start(t testing.TB, cfg config.Config, n int) *Env {
	return startOn(t, cfg, n, "127.0.0.1")
}

// startOn starts n nodes whose base URLs name host (which must resolve to
// loopback) and their own port.
func startOn(t testing.TB, cfg config.Config, n int, host string) *Env {
	t.Helper()
	if problems := cfg.Validate(); len(problems) > 0 {
		t.Fatalf("testenv: invalid config: %v", problems)
	}
	env := &Env{Config: cfg}
	for i := range n {
		node := startNode(t, cfg, host)
		if i == 0 {
			env.AdminPassword = adminPassword(node.out.String())
		}
		env.Nodes = append(env.Nodes, node)
	}
	return env
}

func startNode(t testing.TB, cfg config.Config, host string) *Node {
	t.Helper()
	ln := listen(t)
	// The node's own address is its base URL, so what it publishes (SAML
	// metadata, redirects) points back at it.
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	url := "http://" + net.JoinHostPort(host, port)
	cfg.BaseURL = url
	if problems := cfg.Validate(); len(problems) > 0 {
		ln.Close()
		t.Fatalf("testenv: invalid config: %v", problems)
	}
	return serve(t, cfg, ln, url)
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// serve runs a node with cfg on ln, reachable at url, until the test ends.
func serve(t testing.TB, cfg config.Config, ln net.Listener, url string) *Node {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &webtest.LogBuffer{}
	srv, err := server.New(ctx, &cfg, server.Options{Out: out, Logger: testLogger(t, cfg)})
	if err != nil {
		cancel()
		ln.Close()
		t.Fatalf("testenv: start node: %v", err)
	}
	node := &Node{Server: srv, URL: url, cancel: cancel, done: make(chan error, 1), out: out}
	go func() { node.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() { node.Stop(t) })
	return node
}

// Stop shuts the node down gracefully; it is safe to call twice.
func (n *Node) Stop(t testing.TB) {
	if n.cancel == nil {
		return
	}
	n.cancel()
	n.cancel = nil
	if err := <-n.done; err != nil {
		t.Errorf("testenv: node stopped with %v", err)
	}
	n.Server.Close()
}

// WaitMemo waits until the node's forward-auth memo is trusted (trusted)
// or not, for up to the bus's lease and five seconds more; it fails the
// test if the node has no memo.
func (n *Node) WaitMemo(t testing.TB, trusted bool) {
	t.Helper()
	if n.Server.Bus == nil {
		t.Fatal("testenv: the node has no memo (Redis sessions and forward_auth.cache)")
	}
	deadline := time.Now().Add(sessionredis.DefaultLease + 5*time.Second)
	for n.Server.Bus.Trusted() != trusted {
		if time.Now().After(deadline) {
			t.Fatalf("testenv: the node's memo is still trusted=%v", !trusted)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// WantMemoHit checks that the node answers ask from its forward-auth memo
// once change (nil: none) has been made after a first ask: both asks must
// answer 200. A lease that lapses on a busy machine turns a hit into a
// miss, so it tries five times; a change that empties the memo fails every
// time.
func (n *Node) WantMemoHit(t testing.TB, ask func() int, change func()) {
	t.Helper()
	for range 5 {
		n.WaitMemo(t, true)
		if got := ask(); got != http.StatusOK {
			t.Fatalf("testenv: %s answered %d, want 200", n.URL, got)
		}
		if change != nil {
			change()
		}
		hits, _ := n.Server.Memo.Stats()
		if got := ask(); got != http.StatusOK {
			t.Fatalf("testenv: %s answered %d, want 200", n.URL, got)
		}
		if again, _ := n.Server.Memo.Stats(); again > hits {
			return
		}
	}
	t.Fatalf("testenv: %s did not answer from its memo in five tries", n.URL)
}

// Output is what the node printed on its standard output.
func (n *Node) Output() string { return n.out.String() }

// adminPassword finds the one-time password in the first-start message.
func adminPassword(out string) string {
	for line := range strings.SplitSeq(out, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "password:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				return f[0]
			}
		}
	}
	return ""
}

// RequireService skips (or, under GATEWAY_TEST_REQUIRE_SERVICES=1, fails)
// when the environment variable is not set, and returns its value.
func RequireService(t testing.TB, variable string) string {
	t.Helper()
	v := os.Getenv(variable)
	if v == "" {
		if os.Getenv("GATEWAY_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatalf("%s is not set and GATEWAY_TEST_REQUIRE_SERVICES=1", variable)
		}
		t.Skipf("set %s to run this test", variable)
	}
	return v
}

// Get fetches path from the node without cookies, for probes.
func (n *Node) Get(t testing.TB, path string) *http.Response {
	t.Helper()
	resp, err := http.Get(n.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// AddUser creates a user with a password through the first node's store.
func (e *Env) AddUser(t testing.TB, email, password string) store.User {
	t.Helper()
	srv := e.Nodes[0].Server
	hash, err := srv.Hasher.Hash(password)
	if err != nil {
		t.Fatal(err)
	}
	u := store.User{Email: email, Name: "Test " + email, PasswordHash: hash}
	if err := srv.Store.CreateUser(context.Background(), &u); err != nil {
		t.Fatalf("testenv: add user %s: %v", email, err)
	}
	return u
}

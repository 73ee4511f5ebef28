package testenv_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"testing"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/store"
)

// memoRule protects app.test for the members of staff.
func memoRule(c *config.Config) {
	c.TrustedProxies = []string{"127.0.0.1"}
	c.ForwardAuth.Rules = []config.Rule{{Host: "app.test", Policy: "one_factor", Groups: []string{"staff"}}}
}

// memoCluster starts two nodes with memoRule and a user in staff, signed
// in on the first through c.
func memoCluster(t *testing.T, email string) (env *testenv.Env, u store.User, staff store.Group, c *testenv.Client) {
	t.Helper()
	env = testenv.StartCluster(t, 2, memoRule)
	ctx := context.Background()
	u = env.AddUser(t, email, "a long password for "+email)
	staff = store.Group{Name: "staff"}
	st := env.Nodes[0].Server.Store
	if err := st.CreateGroup(ctx, &staff); err != nil {
		t.Fatal(err)
	}
	if err := st.AddMember(ctx, staff.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	c = testenv.NewClient(t)
	wantRedirect(t, c.Login(env.Nodes[0], email, "a long password for "+email), "/")
	return env, u, staff, c
}

// TestForwardAuthMemoAcrossNodes: each node of a cluster answers a
// session it has just seen from memory, and a change made on the other
// node (group membership, a group's name, disabling, revocation) holds on
// the very next request, with no wait.
func TestForwardAuthMemoAcrossNodes(t *testing.T) {
	env, u, staff, c := memoCluster(t, "mia@example.com")
	a, b := env.Nodes[0], env.Nodes[1]
	ctx := context.Background()
	nodes := []*testenv.Node{a, b}
	ask := func(n *testenv.Node) int { return forwardAuth(c, n, "app.test", "/x").StatusCode }
	for _, n := range nodes {
		n.WantMemoHit(t, func() int { return ask(n) }, nil)
	}

	body, _ := io.ReadAll(a.Get(t, "/metrics").Body)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`\nportcullis_forward_auth_memo_total\{result="hit"\} [1-9]`),
		regexp.MustCompile(`\nportcullis_session_bus_trusted [01]\n`),
	} {
		if !want.Match(body) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// A change to another user (their sign-in, their memberships) leaves
	// this session's copies alone.
	other := env.AddUser(t, "ola@example.com", "ola's long password")
	wantRedirect(t, testenv.NewClient(t).Login(b, "ola@example.com", "ola's long password"), "/")
	for _, n := range nodes {
		n.WantMemoHit(t, func() int { return ask(n) }, func() {
			if err := b.Server.Store.AddMember(ctx, staff.ID, other.ID); err != nil {
				t.Fatal(err)
			}
		})
	}

	setDisabled := func(n *testenv.Node, disabled bool) func() error {
		return func() error {
			got, err := n.Server.Store.User(ctx, u.ID)
			if err != nil {
				return err
			}
			got.Disabled = disabled
			return n.Server.Store.UpdateUser(ctx, got)
		}
	}
	steps := []struct {
		what   string
		change func() error
		want   int
	}{
		{"removed from staff on B", func() error { return b.Server.Store.RemoveMember(ctx, staff.ID, u.ID) }, http.StatusForbidden},
		{"added back on A", func() error { return a.Server.Store.AddMember(ctx, staff.ID, u.ID) }, http.StatusOK},
		{"staff renamed on A", func() error { return a.Server.Store.RenameGroup(ctx, staff.ID, "people") }, http.StatusForbidden},
		{"renamed back on B", func() error { return b.Server.Store.RenameGroup(ctx, staff.ID, "staff") }, http.StatusOK},
		{"disabled on B", setDisabled(b, true), http.StatusFound},
		{"enabled on A", setDisabled(a, false), http.StatusOK},
		{"sessions revoked on A", func() error { _, err := a.Server.Sessions.RevokeUser(ctx, u.ID); return err }, http.StatusFound},
	}
	for _, st := range steps {
		for _, n := range nodes { // each node holds its copy of the state before
			ask(n)
		}
		if err := st.change(); err != nil {
			t.Fatalf("%s: %v", st.what, err)
		}
		for _, n := range nodes {
			if got := ask(n); got != st.want {
				t.Errorf("%s: the next request on %s = %d, want %d", st.what, n.URL, got, st.want)
			}
		}
	}
}

// TestForwardAuthMemoLogoutElsewhere: a logout on one node ends the
// session on the other at once, though that node answered it from memory
// a moment before.
func TestForwardAuthMemoLogoutElsewhere(t *testing.T) {
	env, _, _, c := memoCluster(t, "noa@example.com")
	a, b := env.Nodes[0], env.Nodes[1]
	b.WantMemoHit(t, func() int { return forwardAuth(c, b, "app.test", "/x").StatusCode }, nil)
	// The logout clears the browser's cookie; a copy of it (another
	// browser profile, a replay) still names the session.
	replay := testenv.NewClient(t)
	bURL, _ := url.Parse(b.URL)
	replay.HTTP.Jar.SetCookies(bURL, c.Cookies(b))
	confirm := c.Get(a.URL + "/logout")
	wantStatus(t, c.PostForm(a.URL+"/logout", url.Values{"_csrf": {c.CSRF(confirm)}}), http.StatusOK)
	if r := forwardAuth(replay, b, "app.test", "/x"); r.StatusCode != http.StatusFound {
		t.Errorf("/auth/forward on B after logout on A = %d, want 302", r.StatusCode)
	}
}

// TestForwardAuthMemoUnderLoad changes the user's group on one node,
// again and again, while other requests keep filling and reading the
// memo on both nodes: after each change returns, a request begun after it
// must see it, on either node, whatever fill was in flight when it was
// made.
func TestForwardAuthMemoUnderLoad(t *testing.T) {
	env, u, staff, c := memoCluster(t, "lin@example.com")
	a, b := env.Nodes[0], env.Nodes[1]
	ctx := context.Background()
	ask := func(n *testenv.Node) int { return forwardAuth(c, n, "app.test", "/x").StatusCode }
	for _, n := range env.Nodes {
		n.WantMemoHit(t, func() int { return ask(n) }, nil)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 4 { // background load: fills racing the changes
		n := env.Nodes[i%2]
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					ask(n)
				}
			}
		})
	}
	member := true
	for i := range 30 {
		var err error
		if member {
			err = b.Server.Store.RemoveMember(ctx, staff.ID, u.ID)
		} else {
			err = b.Server.Store.AddMember(ctx, staff.ID, u.ID)
		}
		if err != nil {
			t.Fatal(err)
		}
		member = !member
		want := http.StatusForbidden
		if member {
			want = http.StatusOK
		}
		for _, n := range []*testenv.Node{a, b} {
			if got := ask(n); got != want {
				t.Errorf("change %d (member %v): %s answered %d, want %d", i, member, n.URL, got, want)
			}
		}
	}
	close(stop)
	wg.Wait()
	for _, n := range env.Nodes {
		if hits, _ := n.Server.Memo.Stats(); hits == 0 {
			t.Errorf("%s answered nothing from memory under load", n.URL)
		}
	}
}

// TestForwardAuthMemoAcrossRedisRestart stops the session backend under a
// node that answers a session from memory: 503 once the node has seen the
// connection close; when Redis returns (empty), the old session is gone,
// and a new one is answered from memory again once the bus has
// resubscribed.
func TestForwardAuthMemoAcrossRedisRestart(t *testing.T) {
	rds := testenv.StartPrivateRedis(t)
	env := testenv.Start(t, memoRule, func(c *config.Config) {
		c.Sessions.Store = "redis"
		c.Sessions.RedisURL = rds.URL()
	})
	node := env.Nodes[0]
	ctx := context.Background()
	u := env.AddUser(t, "ray@example.com", "ray's long password")
	staff := store.Group{Name: "staff"}
	if err := node.Server.Store.CreateGroup(ctx, &staff); err != nil {
		t.Fatal(err)
	}
	if err := node.Server.Store.AddMember(ctx, staff.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	c := testenv.NewClient(t)
	wantRedirect(t, c.Login(node, "ray@example.com", "ray's long password"), "/")
	ask := func() int { return forwardAuth(c, node, "app.test", "/x").StatusCode }
	node.WantMemoHit(t, ask, nil)

	rds.Stop()
	node.WaitMemo(t, false)
	if got := ask(); got != http.StatusServiceUnavailable {
		t.Fatalf("with Redis down, /auth/forward = %d, want 503", got)
	}

	rds.Start()
	node.WaitMemo(t, true)
	if got := ask(); got != http.StatusFound {
		t.Fatalf("after Redis came back empty, the old session's /auth/forward = %d, want 302", got)
	}
	wantRedirect(t, c.Login(node, "ray@example.com", "ray's long password"), "/")
	node.WantMemoHit(t, ask, nil)
}

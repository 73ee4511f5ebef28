package testenv_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/portcullis/portcullis/internal/testenv"
)

// TestClusterSharesSessions proves the multi-node contract: a login on node
// A is valid on node B; logout on A ends it on B; disabling the user on A
// ends their sessions on B within a second.
func TestClusterSharesSessions(t *testing.T) {
	env := testenv.StartCluster(t, 2)
	a, b := env.Nodes[0], env.Nodes[1]
	user := env.AddUser(t, "frank@example.com", "frank's long password")

	c := testenv.NewClient(t)
	wantRedirect(t, c.Login(a, "frank@example.com", "frank's long password"), "/")
	wantStatus(t, c.Get(b.URL+"/"), http.StatusOK)

	confirm := c.Get(a.URL + "/logout")
	wantStatus(t, c.PostForm(a.URL+"/logout", url.Values{"_csrf": {c.CSRF(confirm)}}), http.StatusOK)
	wantRedirect(t, c.Get(b.URL+"/"), "/login")

	c2 := testenv.NewClient(t)
	wantRedirect(t, c2.Login(b, "frank@example.com", "frank's long password"), "/")
	ctx := context.Background()
	user.Disabled = true
	if err := a.Server.Store.UpdateUser(ctx, user); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Server.Sessions.RevokeUser(ctx, user.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for {
		r := c2.Get(b.URL + "/")
		if r.StatusCode == http.StatusSeeOther {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("session still valid on B a second after disabling on A: %d", r.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestClusterThrottleIsShared proves failed-login counters hold across
// nodes: failures on A count toward the limit on B.
func TestClusterThrottleIsShared(t *testing.T) {
	env := testenv.StartCluster(t, 2)
	a, b := env.Nodes[0], env.Nodes[1]
	env.AddUser(t, "gina@example.com", "gina's long password")
	c := testenv.NewClient(t)
	limit := env.Config.Login.MaxFailuresPerUser
	for i := range limit {
		node := a
		if i%2 == 1 {
			node = b
		}
		wantStatus(t, c.Login(node, "gina@example.com", "not her password"), http.StatusUnauthorized)
	}
	wantStatus(t, c.Login(b, "gina@example.com", "gina's long password"), http.StatusTooManyRequests)
}

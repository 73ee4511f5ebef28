package testenv_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/internal/testenv"
)

// TestRedisDownNeverLetsAnyoneIn stops the session backend under a running
// node: readiness fails, every page that needs a session answers 503 (never
// as signed in, never a sign-in that seems to work), and the node recovers
// by itself when Redis returns.
func TestRedisDownNeverLetsAnyoneIn(t *testing.T) {
	rds := testenv.StartPrivateRedis(t)
	env := testenv.Start(t, func(c *config.Config) {
		c.Sessions.Store = "redis"
		c.Sessions.RedisURL = rds.URL()
	})
	node := env.Nodes[0]
	env.AddUser(t, "ivan@example.com", "ivan's long password")
	c := testenv.NewClient(t)
	wantRedirect(t, c.Login(node, "ivan@example.com", "ivan's long password"), "/")
	wantStatus(t, c.Get(node.URL+"/"), http.StatusOK)

	rds.Stop()
	if r := node.Get(t, "/readyz"); r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz with Redis down = %d, want 503", r.StatusCode)
	}
	wantStatus(t, c.Get(node.URL+"/"), http.StatusServiceUnavailable)
	wantStatus(t, c.Login(node, "ivan@example.com", "ivan's long password"), http.StatusServiceUnavailable)

	rds.Start()
	deadline := time.Now().Add(15 * time.Second)
	for node.Get(t, "/readyz").StatusCode != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("node did not become ready again after Redis returned")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The private Redis kept nothing on disk: the old session is gone, and
	// a new sign-in works.
	wantRedirect(t, c.Get(node.URL+"/"), "/login")
	wantRedirect(t, c.Login(node, "ivan@example.com", "ivan's long password"), "/")
	wantStatus(t, c.Get(node.URL+"/"), http.StatusOK)
}

package push_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/mfa/push"
	"github.com/portcullis/portcullis/policy"
)

// TestClusterDelivery: on two nodes sharing Redis and PostgreSQL, a push
// made on node A reaches a poll held on node B (which only reads Redis),
// the approval sent to B shows on A's status, A completes it, and the
// pending limit counts pushes made on both nodes.
func TestClusterDelivery(t *testing.T) {
	t.Parallel()
	env := testenv.StartCluster(t, 2)
	a, bNode := env.Nodes[0], env.Nodes[1]
	b := signIn(t, env, a, "ivy@example.com")
	d, done := b.enrol(mfa.EnrolPath(policy.Push), "Ivy's phone")
	if done.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirmation = %d", done.StatusCode)
	}
	d.Server = bNode.URL

	got := make(chan []push.Challenge, 1)
	go func() {
		chs, err := d.Challenges(ctx(t), 20*time.Second)
		if err != nil {
			t.Error(err)
		}
		got <- chs
	}()
	time.Sleep(300 * time.Millisecond) // B's poll is waiting
	p := b.openPush(b.stepUpURL("Wiki", "/"))
	var chs []push.Challenge
	select {
	case chs = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("node B's poll did not deliver node A's push within 5 s")
	}
	if len(chs) != 1 || chs[0].ID != p.id || chs[0].App != "Wiki" {
		t.Fatalf("B delivered %+v", chs)
	}
	if _, err := d.Approve(ctx(t), p.id, p.number); err != nil {
		t.Fatal(err)
	}
	if _, s := b.status(p.Response); s["status"] != push.StateApproved {
		t.Fatalf("A's status = %v", s)
	}
	if r := b.complete(p); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("completion on A = %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	_, err := d.Approve(ctx(t), p.id, p.number)
	wantCode(t, err, push.CodeAnswered)

	// The limit holds across nodes: two pushes on A, one on B, then none.
	b.openPush(b.stepUpURL("Wiki", "/1"))
	b.openPush(b.stepUpURL("Wiki", "/2"))
	b.c.CopyCookies(a, bNode)
	onB := &browser{t: t, env: env, node: bNode, c: b.c, user: b.user}
	onB.openPush(onB.stepUpURL("Wiki", "/3"))
	if r := b.c.Follow(a, b.c.Get(b.stepUpURL("Wiki", "/4"))); r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("fourth push = %d, want 429", r.StatusCode)
	}
	if chs, err := d.Challenges(ctx(t), 0); err != nil || len(chs) != 3 {
		t.Errorf("device sees %d pushes (%v), want 3", len(chs), err)
	}
}

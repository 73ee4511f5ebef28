package totp

import (
	"testing"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/mfa/mfatest"
	"github.com/portcullis/portcullis/session"
)

// harness is the MFA core with this factor on real backends (mfatest), as
// one or more nodes sharing them.
type harness struct {
	*mfatest.Env
	nodes []*node
}

// node is one gateway node's MFA core and factor.
type node struct {
	*mfatest.Node
	factor *Factor
}

func newHarness(t testing.TB) *harness {
	return newHarnessOn(t, nil)
}

// newHarnessOn builds a one-node harness on the session backend replay
// (nil: a memory store).
func newHarnessOn(t testing.TB, replay session.Store) *harness {
	h := &harness{Env: mfatest.New(t, mfatest.Options{Replay: replay})}
	h.addNode()
	return h
}

// addNode starts another node on the same store, session backend and
// master secret.
func (h *harness) addNode() *node {
	n := &node{}
	n.Node = h.Node(func(core *mfa.Handler) {
		n.factor = New(core, Options{Issuer: "Test: Gateway"})
		core.Register(n.factor)
	})
	h.nodes = append(h.nodes, n)
	return n
}

// user is a signed-in browser of one user: its cookies follow the session
// rotations.
type user struct {
	*mfatest.Browser
	h *harness
}

// signIn creates a user and signs them in with a password.
func (h *harness) signIn(email string) *user {
	b := h.Browser(h.nodes[0].Node)
	b.SignIn(h.User(email))
	return &user{b, h}
}

// stepUp is a continuation token for a step-up of the user that accepts
// factors (any when none) and returns to /done.
func (b *user) stepUp(factors ...string) string {
	return b.h.nodes[0].StepUp(b.User, "Test app", "/done", factors...)
}

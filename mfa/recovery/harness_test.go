package recovery

import (
	"context"
	"testing"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/mfa/mfatest"
	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
)

// harness is the MFA core with this factor, and an authenticator app for
// it to back up, on real backends (mfatest), as one or more nodes sharing
// them.
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
	h := &harness{Env: mfatest.New(t, mfatest.Options{})}
	h.addNode()
	return h
}

// addNode starts another node on the same store, session backend and
// master secret.
func (h *harness) addNode() *node {
	n := &node{}
	n.Node = h.Node(func(core *mfa.Handler) {
		n.factor = New(core)
		core.Register(mfatest.TOTPStandIn{}, n.factor)
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

// signIn creates a user who has an authenticator app, signed in with a
// password and (when recent) a code from that app just now.
func (h *harness) signIn(email string, recent bool) *user {
	u := h.User(email)
	app := store.Enrolment{UserID: u.ID, Factor: policy.TOTP, Name: "Phone", Data: []byte("sealed"), Confirmed: true}
	if err := h.Store.CreateEnrolment(context.Background(), &app); err != nil {
		h.T.Fatal(err)
	}
	var factors []string
	if recent {
		factors = append(factors, session.FactorTOTP)
	}
	b := h.Browser(h.nodes[0].Node)
	b.SignIn(u, factors...)
	return &user{b, h}
}

// stepUp is a continuation token for a step-up of the user that accepts
// factors (any when none) and returns to /done.
func (b *user) stepUp(factors ...string) string {
	return b.h.nodes[0].StepUp(b.User, "Test app", "/done", factors...)
}

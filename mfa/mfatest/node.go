package mfatest

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// The nodes' secrets. They are the same on every node, as in a cluster:
// any node reads another's session cookie and continues its step-ups.
var (
	hashKey         = []byte("0123456789abcdef0123456789abcdef")
	continuationKey = []byte("fedcba9876543210fedcba9876543210")
	csrfKey         = []byte("csrf-key-of-the-mfatest-nodes-32")
)

// Node is one gateway node: its MFA core with the factors of the test,
// its session manager, and its routes. It serves them as an http.Handler.
type Node struct {
	Core     *mfa.Handler
	Sessions *session.Manager
	Mux      *http.ServeMux
	// CSRF protects the core's and the factors' forms when the Env was
	// opened with Options.CSRF; nil otherwise.
	CSRF *web.CSRF

	env *Env
}

// Node starts another node on the Env's store, session backend, master
// secret and clock. register builds the node's factors on core and
// registers them (core.Register); Node then mounts the core.
func (e *Env) Node(register func(core *mfa.Handler)) *Node {
	e.T.Helper()
	sessions, err := session.NewManager(session.Options{Store: e.Replay, HashKey: hashKey})
	if err != nil {
		e.T.Fatal(err)
	}
	render, err := web.NewRenderer("", slog.New(slog.DiscardHandler))
	if err != nil {
		e.T.Fatal(err)
	}
	n := &Node{Sessions: sessions, Mux: http.NewServeMux(), env: e}
	n.Core = &mfa.Handler{Store: e.Store, Sessions: sessions, Current: n.current, Render: render, Now: e.Now,
		Throttle: &session.Throttle{Store: e.Replay, Scope: "mfa", MaxUser: e.opts.MaxFailuresPerUser,
			MaxIP: e.opts.MaxFailuresPerIP, Window: e.opts.FailureWindow},
		Replay: e.Replay, ContinuationKey: continuationKey, Master: e.Master, EnrolOnFirstUse: true}
	register(n.Core)
	var csrf func(http.Handler) http.Handler
	if e.opts.CSRF {
		if n.CSRF, err = web.NewCSRF(csrfKey, render, web.CSRFOptions{}); err != nil {
			e.T.Fatal(err)
		}
		csrf = n.CSRF.Protect
	}
	n.Core.Mount(n.Mux, csrf)
	return n
}

// current is portal.Handler.Current: the session and its user, who must
// exist and be enabled.
func (n *Node) current(r *http.Request) (*session.Session, store.User, error) {
	s, err := n.Sessions.Load(r)
	if err != nil {
		return nil, store.User{}, err
	}
	u, err := n.env.Store.User(r.Context(), s.UserID)
	if errors.Is(err, store.ErrNotFound) || err == nil && u.Disabled {
		return nil, store.User{}, session.ErrNotFound
	}
	return s, u, err
}

// ServeHTTP serves the node's routes.
func (n *Node) ServeHTTP(w http.ResponseWriter, r *http.Request) { n.Mux.ServeHTTP(w, r) }

// StepUp is the continuation token of a step-up of u for app that returns
// to ret and accepts the factors named (any when none are).
func (n *Node) StepUp(u store.User, app, ret string, factors ...string) string {
	t := n.env.T
	t.Helper()
	to, err := n.Core.StepUpURL(u, policy.Requirement{Mode: policy.Required, Factors: factors},
		policy.Decision{Outcome: policy.StepUp}, app, ret)
	if err != nil {
		t.Fatal(err)
	}
	target, err := url.Parse(to)
	if err != nil {
		t.Fatal(err)
	}
	return target.Query().Get("c")
}

var _ http.Handler = (*Node)(nil)

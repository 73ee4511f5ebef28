package totp

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/session/memory"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/sqlite"
	"github.com/portcullis/portcullis/web"
)

// harness is the MFA core with this factor on real backends (SQLite, the
// memory session store), as one or more nodes sharing them.
type harness struct {
	t      testing.TB
	store  store.Store
	replay session.Store
	master *keys.Master
	mu     sync.Mutex
	now    time.Time
	nodes  []*node
}

// node is one gateway node's MFA core and factor.
type node struct {
	core     *mfa.Handler
	factor   *Factor
	sessions *session.Manager
	mux      *http.ServeMux
}

var (
	hashKey         = []byte("0123456789abcdef0123456789abcdef")
	continuationKey = []byte("fedcba9876543210fedcba9876543210")
)

func newHarness(t testing.TB) *harness {
	return newHarnessOn(t, memory.New())
}

// newHarnessOn builds a one-node harness on the session backend replay.
func newHarnessOn(t testing.TB, replay session.Store) *harness {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m, err := keys.NewMaster(rand.Text() + rand.Text())
	if err != nil {
		t.Fatal(err)
	}
	// Mid-step, near the real time the session store uses.
	h := &harness{t: t, store: st, replay: replay, master: m, now: time.Now().UTC().Truncate(30 * time.Second).Add(15 * time.Second)}
	h.addNode()
	return h
}

// addNode starts another node on the same store, session backend and
// master secret.
func (h *harness) addNode() *node {
	sessions, err := session.NewManager(session.Options{Store: h.replay, HashKey: hashKey})
	if err != nil {
		h.t.Fatal(err)
	}
	render, err := web.NewRenderer("", slog.New(slog.DiscardHandler))
	if err != nil {
		h.t.Fatal(err)
	}
	n := &node{sessions: sessions, mux: http.NewServeMux()}
	n.core = &mfa.Handler{
		Store: h.store, Sessions: sessions, Render: render, Now: h.clock,
		Current: func(r *http.Request) (*session.Session, store.User, error) {
			s, err := sessions.Load(r)
			if err != nil {
				return nil, store.User{}, err
			}
			u, err := h.store.User(r.Context(), s.UserID)
			return s, u, err
		},
		Throttle:        &session.Throttle{Store: h.replay, Scope: "mfa", MaxUser: 5, MaxIP: 100, Window: 15 * time.Minute},
		Replay:          h.replay,
		ContinuationKey: continuationKey,
		Master:          h.master,
		EnrolOnFirstUse: true,
	}
	n.factor = New(n.core, Options{Issuer: "Test: Gateway"})
	n.core.Register(n.factor)
	n.core.Mount(n.mux, nil)
	h.nodes = append(h.nodes, n)
	return n
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = h.now.Add(d)
}

// user is a signed-in browser of one user: its cookies follow the session
// rotations.
type user struct {
	h       *harness
	u       store.User
	cookies map[string]*http.Cookie
}

// signIn creates a user and signs them in with a password.
func (h *harness) signIn(email string) *user {
	u := store.User{Email: email, Name: "Test " + email}
	if err := h.store.CreateUser(context.Background(), &u); err != nil {
		h.t.Fatal(err)
	}
	w := httptest.NewRecorder()
	s := &session.Session{UserID: u.ID, Email: u.Email, AuthTime: time.Now()}
	s.AddFactor(session.FactorPassword, time.Now())
	if err := h.nodes[0].sessions.Login(context.Background(), w, httptest.NewRequest("GET", "/", nil), s); err != nil {
		h.t.Fatal(err)
	}
	b := &user{h: h, u: u, cookies: map[string]*http.Cookie{}}
	b.keep(w.Result())
	return b
}

func (b *user) keep(resp *http.Response) {
	for _, c := range resp.Cookies() {
		b.cookies[c.Name] = c
	}
}

// do sends a request to node n and keeps the cookies it sets.
func (b *user) do(n *node, method, target string, form url.Values) *httptest.ResponseRecorder {
	b.h.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range b.cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	n.mux.ServeHTTP(w, r)
	b.keep(w.Result())
	return w
}

// stepUp is a continuation token for a step-up of the user that accepts
// factors (any when none) and returns to /done.
func (b *user) stepUp(factors ...string) string {
	b.h.t.Helper()
	to, err := b.h.nodes[0].core.StepUpURL(b.u, policy.Requirement{Mode: policy.Required, Factors: factors},
		policy.Decision{Outcome: policy.StepUp}, "Test app", "/done")
	if err != nil {
		b.h.t.Fatal(err)
	}
	u, err := url.Parse(to)
	if err != nil {
		b.h.t.Fatal(err)
	}
	return u.Query().Get("c")
}

// session is the user's current session record.
func (b *user) session() *session.Session {
	b.h.t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	for _, c := range b.cookies {
		r.AddCookie(c)
	}
	s, err := b.h.nodes[0].sessions.Load(r)
	if err != nil {
		b.h.t.Fatal(err)
	}
	return s
}

// enrolments lists the user's enrolments.
func (b *user) enrolments() []store.Enrolment {
	b.h.t.Helper()
	es, err := b.h.store.UserEnrolments(context.Background(), b.u.ID)
	if err != nil {
		b.h.t.Fatal(err)
	}
	return es
}

// events lists the audit events of type typ about the user, newest first.
func (b *user) events(typ string) []audit.Event {
	b.h.t.Helper()
	evs, err := b.h.store.ListEvents(context.Background(), store.EventFilter{Types: []string{typ}, Subject: b.u.Email})
	if err != nil {
		b.h.t.Fatal(err)
	}
	return evs
}

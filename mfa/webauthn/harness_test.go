package webauthn

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/mfa/mfatest"
	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// The relying party of the unit tests. The software authenticator reports
// the origin itself, so it need not be the address the requests go to.
const (
	testRPID   = "portcullis.test"
	testOrigin = "https://portcullis.test"
)

// harness is the MFA core with this factor mounted behind the real CSRF
// protection, on real backends (mfatest), with the portal's login page.
type harness struct {
	*mfatest.Env
	node   *mfatest.Node
	factor *Factor
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	h := &harness{Env: mfatest.New(t, mfatest.Options{MaxFailuresPerIP: 50, CSRF: true})}
	h.node = h.Node(func(core *mfa.Handler) {
		h.factor = New(core, Options{RPID: testRPID, RPName: "Portcullis", Origin: testOrigin})
		if err := h.factor.Err(); err != nil {
			t.Fatal(err)
		}
		core.Register(h.factor, mfatest.TOTPStandIn{})
	})
	// The portal's part, reduced: the login page, where a passkey sign-in
	// starts.
	h.node.Mux.Handle("GET /login", h.node.CSRF.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.node.Core.Render.Render(w, r, http.StatusOK, "login.html", web.Page{Data: web.LoginData{Return: r.URL.Query().Get("return")}})
	})))
	return h
}

func (h *harness) updateUser(u store.User) {
	h.T.Helper()
	if err := h.Store.UpdateUser(context.Background(), u); err != nil {
		h.T.Fatal(err)
	}
}

// keys returns u's webauthn enrolments.
func (h *harness) keys(u store.User) []store.Enrolment {
	h.T.Helper()
	var out []store.Enrolment
	for _, e := range h.Enrolments(u) {
		if e.Factor == policy.WebAuthn {
			out = append(out, e)
		}
	}
	return out
}

// events returns the audit events of type typ, oldest first.
func (h *harness) events(typ string) []audit.Event {
	h.T.Helper()
	es := h.Events(typ)
	slices.Reverse(es)
	return es
}

// stepUp returns a continuation token for u's step-up that returns to ret,
// accepting the factors named (any when none are).
func (h *harness) stepUp(u store.User, ret string, factors ...string) string {
	h.T.Helper()
	return h.node.StepUp(u, "Grafana", ret, factors...)
}

// browser is a browser that runs the factor's script's requests.
type browser struct {
	*mfatest.Browser
	h *harness
}

func (h *harness) browser() *browser {
	return &browser{h.Browser(h.node), h}
}

// page fetches path and keeps its CSRF token.
func (b *browser) page(path string) (int, string) {
	b.h.T.Helper()
	w := b.Do(b.h.node, "GET", path, nil)
	return w.Code, w.Body.String()
}

// answer is a POST's answer, decoded when it is JSON.
type answer struct {
	status    int
	header    http.Header
	body      string
	Ceremony  string          `json:"ceremony"`
	PublicKey json.RawMessage `json:"publicKey"`
	Redirect  string          `json:"redirect"`
	Error     string          `json:"error"`
}

// post sends fields (and the CSRF token) as the script does.
func (b *browser) post(path string, fields url.Values) answer {
	b.h.T.Helper()
	w := b.Do(b.h.node, "POST", path, fields)
	a := answer{status: w.Code, header: w.Header(), body: w.Body.String()}
	if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
			b.h.T.Fatalf("POST %s: %v\n%s", path, err, w.Body)
		}
	}
	return a
}

// must fails the test unless a has status want.
func (a answer) must(t testing.TB, what string, want int) answer {
	t.Helper()
	if a.status != want {
		t.Fatalf("%s: status %d, want %d: %s", what, a.status, want, a.body)
	}
	return a
}

// enrol registers k for the signed-in browser through the enrol page and
// its endpoints, and returns the finish's answer.
func (b *browser) enrol(k *softKey, name string) answer {
	b.h.T.Helper()
	if status, body := b.page(mfa.EnrolPath(policy.WebAuthn)); status != http.StatusOK {
		b.h.T.Fatalf("enrol page: %d\n%s", status, body)
	}
	begun := b.post("/mfa/webauthn/enrol/begin", url.Values{"name": {name}}).must(b.h.T, "enrol begin", http.StatusOK)
	return b.post("/mfa/webauthn/enrol/finish", url.Values{"ceremony": {begun.Ceremony},
		"credential": {k.create(b.h.T, begun.PublicKey)}})
}

// verify runs the step-up with k for continuation token c.
func (b *browser) verify(k *softKey, c string) answer {
	b.h.T.Helper()
	begun := b.beginVerify(c)
	return b.post("/mfa/webauthn/finish", url.Values{"c": {c}, "ceremony": {begun.Ceremony},
		"credential": {k.get(b.h.T, begun.PublicKey)}})
}

func (b *browser) beginVerify(c string) answer {
	b.h.T.Helper()
	if status, body := b.page("/mfa/webauthn?c=" + url.QueryEscape(c)); status != http.StatusOK {
		b.h.T.Fatalf("step-up page: %d\n%s", status, body)
	}
	return b.post("/mfa/webauthn/begin", url.Values{"c": {c}}).must(b.h.T, "step-up begin", http.StatusOK)
}

// passkey signs in with k alone from the login page, returning to ret.
func (b *browser) passkey(k *softKey, ret string) answer {
	b.h.T.Helper()
	begun := b.beginPasskey()
	return b.post(PasskeyFinishPath, url.Values{"ceremony": {begun.Ceremony}, "return": {ret},
		"credential": {k.get(b.h.T, begun.PublicKey)}})
}

func (b *browser) beginPasskey() answer {
	b.h.T.Helper()
	if status, body := b.page("/login"); status != http.StatusOK {
		b.h.T.Fatalf("login page: %d\n%s", status, body)
	}
	return b.post(PasskeyBeginPath, url.Values{}).must(b.h.T, "passkey begin", http.StatusOK)
}

// registered enrols a fresh key for a new signed-in user and returns both.
func (h *harness) registered(email string) (store.User, *softKey, *browser) {
	h.T.Helper()
	u := h.User(email)
	b := h.browser()
	b.SignIn(u)
	k := newSoftKey(h.T, testRPID, testOrigin)
	b.enrol(k, "YubiKey").must(h.T, "enrol "+email, http.StatusOK)
	return u, k, b
}

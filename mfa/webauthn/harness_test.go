package webauthn

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
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

// The relying party of the unit tests. The software authenticator reports
// the origin itself, so it need not be the test server's address.
const (
	testRPID   = "portcullis.test"
	testOrigin = "https://portcullis.test"
)

// harness is the MFA core with this factor mounted, served over HTTP with
// the real CSRF protection, a SQLite store and in-memory sessions.
type harness struct {
	t        testing.TB
	url      string
	store    store.Store
	sessions *session.Manager
	replay   *memory.Store
	core     *mfa.Handler
	factor   *Factor
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "gateway.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	mem := memory.New()
	sessions, err := session.NewManager(session.Options{Store: mem, HashKey: []byte(strings.Repeat("h", 32))})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	render, err := web.NewRenderer("", logger)
	if err != nil {
		t.Fatal(err)
	}
	csrf, err := web.NewCSRF([]byte(strings.Repeat("c", 32)), render, web.CSRFOptions{})
	if err != nil {
		t.Fatal(err)
	}
	master, err := keys.NewMaster(strings.Repeat("m", 32))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, store: st, sessions: sessions, replay: mem}
	h.core = &mfa.Handler{Store: st, Sessions: sessions, Current: h.current, Render: render, Logger: logger,
		Throttle: &session.Throttle{Store: mem, Scope: "mfa", MaxUser: 5, MaxIP: 50, Window: 15 * time.Minute},
		Replay:   mem, ContinuationKey: []byte(strings.Repeat("k", 32)), Master: master, EnrolOnFirstUse: true}
	h.factor = New(h.core, Options{RPID: testRPID, RPName: "Portcullis", Origin: testOrigin})
	if err := h.factor.Err(); err != nil {
		t.Fatal(err)
	}
	h.core.Register(h.factor, otherFactor{})
	mux := http.NewServeMux()
	h.core.Mount(mux, csrf.Protect)
	// The portal's part, reduced: a password sign-in and the login page.
	mux.HandleFunc("POST /test/signin", h.signInHandler)
	mux.Handle("GET /login", csrf.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		render.Render(w, r, http.StatusOK, "login.html", web.Page{Data: web.LoginData{Return: r.URL.Query().Get("return")}})
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

// current is portal.Handler.Current: the session and its (enabled) user.
func (h *harness) current(r *http.Request) (*session.Session, store.User, error) {
	s, err := h.sessions.Load(r)
	if err != nil {
		return nil, store.User{}, err
	}
	u, err := h.store.User(r.Context(), s.UserID)
	if errors.Is(err, store.ErrNotFound) || err == nil && u.Disabled {
		return nil, store.User{}, session.ErrNotFound
	}
	return s, u, err
}

func (h *harness) signInHandler(w http.ResponseWriter, r *http.Request) {
	u, err := h.store.UserByEmail(r.Context(), r.FormValue("email"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	now := time.Now()
	s := &session.Session{UserID: u.ID, Email: u.Email, AuthTime: now}
	s.AddFactor(session.FactorPassword, now)
	if err := h.sessions.Login(r.Context(), w, r, s); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

func (h *harness) user(email string) store.User {
	h.t.Helper()
	u := store.User{Email: email, Name: strings.Split(email, "@")[0]}
	if err := h.store.CreateUser(context.Background(), &u); err != nil {
		h.t.Fatal(err)
	}
	return u
}

func (h *harness) updateUser(u store.User) {
	h.t.Helper()
	if err := h.store.UpdateUser(context.Background(), u); err != nil {
		h.t.Fatal(err)
	}
}

// keys returns u's webauthn enrolments.
func (h *harness) keys(u store.User) []store.Enrolment {
	h.t.Helper()
	es, err := h.store.UserEnrolments(context.Background(), u.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []store.Enrolment
	for _, e := range es {
		if e.Factor == policy.WebAuthn {
			out = append(out, e)
		}
	}
	return out
}

// events returns the audit events of type typ, oldest first.
func (h *harness) events(typ string) []audit.Event {
	h.t.Helper()
	es, err := h.store.ListEvents(context.Background(), store.EventFilter{Types: []string{typ}})
	if err != nil {
		h.t.Fatal(err)
	}
	for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
		es[i], es[j] = es[j], es[i]
	}
	return es
}

// stepUp returns a continuation token for u's step-up that returns to ret,
// accepting the factors named (any when none are).
func (h *harness) stepUp(u store.User, ret string, factors ...string) string {
	h.t.Helper()
	to, err := h.core.StepUpURL(u, policy.Requirement{Mode: policy.Required, Factors: factors},
		policy.Decision{Outcome: policy.StepUp}, "Grafana", ret)
	if err != nil {
		h.t.Fatal(err)
	}
	q, _ := url.ParseQuery(strings.TrimPrefix(to, mfa.ChoosePath+"?"))
	return q.Get("c")
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	h    *harness
	http *http.Client
	csrf string // the token of the last page fetched
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{h: h, http: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// signIn signs the browser in as email with a password session.
func (b *browser) signIn(email string) {
	b.h.t.Helper()
	resp, err := b.http.PostForm(b.h.url+"/test/signin", url.Values{"email": {email}})
	if err != nil || resp.StatusCode != http.StatusOK {
		b.h.t.Fatalf("sign in %s: %v %v", email, err, resp)
	}
	resp.Body.Close()
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

// page fetches path and keeps its CSRF token.
func (b *browser) page(path string) (int, string) {
	b.h.t.Helper()
	resp, err := b.http.Get(b.h.url + path)
	if err != nil {
		b.h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindStringSubmatch(string(body)); m != nil {
		b.csrf = html.UnescapeString(m[1])
	}
	return resp.StatusCode, string(body)
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
	b.h.t.Helper()
	if b.csrf != "" {
		fields.Set(web.CSRFField, b.csrf)
	}
	resp, err := b.http.PostForm(b.h.url+path, fields)
	if err != nil {
		b.h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, body: string(body)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(body, &a); err != nil {
			b.h.t.Fatalf("POST %s: %v\n%s", path, err, body)
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
	b.h.t.Helper()
	if status, body := b.page(mfa.EnrolPath(policy.WebAuthn)); status != http.StatusOK {
		b.h.t.Fatalf("enrol page: %d\n%s", status, body)
	}
	begun := b.post("/mfa/webauthn/enrol/begin", url.Values{"name": {name}}).must(b.h.t, "enrol begin", http.StatusOK)
	return b.post("/mfa/webauthn/enrol/finish", url.Values{"ceremony": {begun.Ceremony},
		"credential": {k.create(b.h.t, begun.PublicKey)}})
}

// verify runs the step-up with k for continuation token c.
func (b *browser) verify(k *softKey, c string) answer {
	b.h.t.Helper()
	begun := b.beginVerify(c)
	return b.post("/mfa/webauthn/finish", url.Values{"c": {c}, "ceremony": {begun.Ceremony},
		"credential": {k.get(b.h.t, begun.PublicKey)}})
}

func (b *browser) beginVerify(c string) answer {
	b.h.t.Helper()
	if status, body := b.page("/mfa/webauthn?c=" + url.QueryEscape(c)); status != http.StatusOK {
		b.h.t.Fatalf("step-up page: %d\n%s", status, body)
	}
	return b.post("/mfa/webauthn/begin", url.Values{"c": {c}}).must(b.h.t, "step-up begin", http.StatusOK)
}

// passkey signs in with k alone from the login page, returning to ret.
func (b *browser) passkey(k *softKey, ret string) answer {
	b.h.t.Helper()
	begun := b.beginPasskey()
	return b.post(PasskeyFinishPath, url.Values{"ceremony": {begun.Ceremony}, "return": {ret},
		"credential": {k.get(b.h.t, begun.PublicKey)}})
}

func (b *browser) beginPasskey() answer {
	b.h.t.Helper()
	if status, body := b.page("/login"); status != http.StatusOK {
		b.h.t.Fatalf("login page: %d\n%s", status, body)
	}
	return b.post(PasskeyBeginPath, url.Values{}).must(b.h.t, "passkey begin", http.StatusOK)
}

// session returns the browser's session, nil when it has none.
func (b *browser) session() *session.Session {
	b.h.t.Helper()
	u, _ := url.Parse(b.h.url)
	r := httptest.NewRequest("GET", b.h.url, nil)
	for _, c := range b.http.Jar.Cookies(u) {
		r.AddCookie(c)
	}
	s, err := b.h.sessions.Load(r)
	if errors.Is(err, session.ErrNotFound) {
		return nil
	}
	if err != nil {
		b.h.t.Fatal(err)
	}
	return s
}

// registered enrols a fresh key for a new signed-in user and returns both.
func (h *harness) registered(email string) (store.User, *softKey, *browser) {
	h.t.Helper()
	u := h.user(email)
	b := h.browser()
	b.signIn(email)
	k := newSoftKey(h.t, testRPID, testOrigin)
	b.enrol(k, "YubiKey").must(h.t, "enrol "+email, http.StatusOK)
	return u, k, b
}

// otherFactor stands in for the authenticator-app factor, so that a user
// can have a second kind of factor; it serves nothing.
type otherFactor struct{}

func (otherFactor) Name() string                                          { return policy.TOTP }
func (otherFactor) Title() string                                         { return "Authenticator app" }
func (otherFactor) Mount(*http.ServeMux, func(http.Handler) http.Handler) {}

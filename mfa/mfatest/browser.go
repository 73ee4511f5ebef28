package mfatest

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// Browser is one browser, talking to the nodes in process. It keeps the
// cookies they set, as a cookie jar does, and the CSRF token of the last
// page it read, which it sends with every form.
type Browser struct {
	// User is whom the browser signed in as with SignIn.
	User store.User
	// CSRF is the token of the last page read; clear it to post without.
	CSRF string

	env  *Env
	home *Node
	jar  *cookiejar.Jar
}

// Browser is a browser with no cookies yet, which signs in on and reads
// its session from home (every node of an Env shares the sessions).
func (e *Env) Browser(home *Node) *Browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.T.Fatal(err)
	}
	return &Browser{env: e, home: home, jar: jar}
}

// SignIn signs the browser in as u with a password, at the real time as the
// session manager keeps it, adding the factors named as presented at the
// Env's time.
func (b *Browser) SignIn(u store.User, factors ...string) {
	b.env.T.Helper()
	s := &session.Session{UserID: u.ID, Email: u.Email, AuthTime: time.Now()}
	s.AddFactor(session.FactorPassword, time.Now())
	for _, f := range factors {
		s.AddFactor(f, b.env.Now())
	}
	w, r := httptest.NewRecorder(), b.request("POST", "/", nil)
	if err := b.home.Sessions.Login(context.Background(), w, r, s); err != nil {
		b.env.T.Fatal(err)
	}
	b.jar.SetCookies(siteURL(r), w.Result().Cookies())
	b.User = u
}

// csrfField is the CSRF token's hidden input on a page.
var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

// Do sends a request to node (any handler) with the browser's cookies and
// keeps the cookies and CSRF token of the answer. form, when not nil, is
// the url-encoded body; the CSRF token is added to it when there is one.
func (b *Browser) Do(node http.Handler, method, target string, form url.Values) *httptest.ResponseRecorder {
	b.env.T.Helper()
	var body io.Reader
	if form != nil {
		if b.CSRF != "" {
			form.Set(web.CSRFField, b.CSRF)
		}
		body = strings.NewReader(form.Encode())
	}
	r := b.request(method, target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	w := httptest.NewRecorder()
	node.ServeHTTP(w, r)
	b.jar.SetCookies(siteURL(r), w.Result().Cookies())
	if m := csrfField.FindStringSubmatch(w.Body.String()); m != nil {
		b.CSRF = html.UnescapeString(m[1])
	}
	return w
}

// request is a request to target carrying the browser's cookies.
func (b *Browser) request(method, target string, body io.Reader) *http.Request {
	r := httptest.NewRequest(method, target, body)
	for _, c := range b.jar.Cookies(siteURL(r)) {
		r.AddCookie(c)
	}
	return r
}

// siteURL is the absolute URL of r, by which the jar files cookies.
func siteURL(r *http.Request) *url.URL {
	return &url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path}
}

// Session is the browser's current session record, nil when it has none.
func (b *Browser) Session() *session.Session {
	b.env.T.Helper()
	s, err := b.home.Sessions.Load(b.request("GET", "/", nil))
	if errors.Is(err, session.ErrNotFound) {
		return nil
	}
	if err != nil {
		b.env.T.Fatal(err)
	}
	return s
}

// Enrolments lists the enrolments of the browser's user.
func (b *Browser) Enrolments() []store.Enrolment {
	b.env.T.Helper()
	return b.env.Enrolments(b.User)
}

// Events lists the audit events of the given types about the browser's
// user, newest first.
func (b *Browser) Events(types ...string) []audit.Event {
	b.env.T.Helper()
	return b.env.events(store.EventFilter{Types: types, Subject: b.User.Email})
}

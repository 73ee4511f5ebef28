package sessiontest

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/portcullis/portcullis/session"
)

// ConcurrentUpdates is how many requests testManagerUpdateConcurrent runs
// at once against one session. Each conflict an Update meets means another
// one finished, so none of them may run out of retries.
const ConcurrentUpdates = 8

// testManagerUpdateConcurrent runs a Manager on the store and has several
// requests of one browser each load the session and add its own SAML entry
// at once (a user opening several apps from the portal): every entry must
// survive, or single logout would skip an app.
func testManagerUpdateConcurrent(t *testing.T, s session.Store, _ Clock) {
	m, err := session.NewManager(session.Options{Store: s, HashKey: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "https://gw.example.com/", nil)
	if err := m.Login(ctx(t), w, r, &session.Session{UserID: 1, Email: "alice@example.com"}); err != nil {
		t.Fatalf("Login: %v", err)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("Login set %d cookies, want 1", len(cookies))
	}
	// Every first attempt waits at read until all have read, so all of them
	// hold the same version and all but one must retry.
	var wg, read sync.WaitGroup
	read.Add(ConcurrentUpdates)
	start := make(chan struct{})
	errs := make([]error, ConcurrentUpdates)
	for i := range ConcurrentUpdates {
		wg.Go(func() {
			var first sync.Once
			defer first.Do(read.Done)
			r := httptest.NewRequest(http.MethodGet, "https://gw.example.com/", nil)
			r.AddCookie(cookies[0])
			<-start
			sess, err := m.Load(r)
			if err != nil {
				errs[i] = fmt.Errorf("Load: %w", err)
				return
			}
			e := session.SAMLEntry{App: fmt.Sprint("app-", i), SessionIndex: fmt.Sprint("idx-", i)}
			errs[i] = m.Update(ctx(t), sess, func(s *session.Session) error {
				first.Do(func() { read.Done(); read.Wait() })
				s.SAML = append(s.SAML, e)
				return nil
			})
			if errs[i] == nil && !slices.Contains(sess.SAML, e) {
				errs[i] = errors.New("Update did not leave its entry in the session")
			}
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	r = httptest.NewRequest(http.MethodGet, "https://gw.example.com/", nil)
	r.AddCookie(cookies[0])
	sess, err := m.Load(r)
	if err != nil {
		t.Fatalf("Load after the updates: %v", err)
	}
	var apps []string
	for _, e := range sess.SAML {
		apps = append(apps, e.App)
	}
	slices.Sort(apps)
	var want []string
	for i := range ConcurrentUpdates {
		want = append(want, fmt.Sprint("app-", i))
	}
	slices.Sort(want)
	if !slices.Equal(apps, want) {
		t.Fatalf("SAML entries after %d concurrent Updates = %v, want %v", ConcurrentUpdates, apps, want)
	}
}

package session_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/portcullis/portcullis/session"
)

// FuzzLoadCookie feeds Load cookie values from the wire: none may panic or
// yield a session other than the one the valid cookie names.
func FuzzLoadCookie(f *testing.F) {
	f.Add("")
	f.Add("MTg5MzQ1NjAwMHxkR1Z6ZEE9PXw=")
	f.Add("a|b|c")
	f.Fuzz(func(t *testing.T, value string) {
		h := newHarness(t)
		valid := h.login(alice())
		s, err := h.m.Load(request(&http.Cookie{Name: session.DefaultCookieName, Value: value}))
		if value == valid.Value {
			return
		}
		if s != nil || !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("Load(%q) = %+v, %v; want ErrNotFound", value, s, err)
		}
	})
}

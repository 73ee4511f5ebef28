package idp

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
)

// parked is an AuthnRequest waiting for the user to sign in. The message
// is kept exactly as it came, so that an HTTP-Redirect query signature
// (saml-bindings §3.4.4.1) and a POST body both verify again on return.
type parked struct {
	Method  string    `json:"method"`
	Query   string    `json:"query,omitempty"` // raw query, HTTP-Redirect
	Form    string    `json:"form,omitempty"`  // SAML fields, HTTP-POST
	Arrived time.Time `json:"arrived"`
}

// samlFields are the form fields of the POST bindings (saml-bindings §3.5.3,
// SimpleSign §2.3); nothing else of the form is kept.
var samlFields = []string{"SAMLRequest", "RelayState", "SigAlg", "Signature"}

// MaxParkedBytes bounds what one parked request keeps in the session
// backend. Anyone can send a request for an app that does not sign its
// requests, so parking must not let them fill the backend: 64 KiB holds any
// HTTP-Redirect request (the server reads at most 64 KiB of headers) and any
// real HTTP-POST one, which is a few kilobytes.
const MaxParkedBytes = 64 << 10

// errParkTooBig refuses to keep a request larger than MaxParkedBytes.
var errParkTooBig = fmt.Errorf("request larger than %d bytes cannot wait for a sign-in", MaxParkedBytes)

// park stores the request in the session backend for ParkTTL under a random
// key and returns the key.
func (h *Handler) park(r *http.Request, arrived time.Time) (string, error) {
	p := parked{Method: r.Method, Arrived: arrived}
	if r.Method == http.MethodGet {
		p.Query = r.URL.RawQuery
	} else {
		form := url.Values{}
		for _, k := range samlFields {
			if v, ok := r.PostForm[k]; ok {
				form[k] = v
			}
		}
		p.Form = form.Encode()
	}
	data, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	if len(data) > MaxParkedBytes {
		return "", errParkTooBig
	}
	key := rand.Text()
	if err := h.Replay.Put(r.Context(), parkKey(key), 0, data, ParkTTL); err != nil {
		return "", err
	}
	return key, nil
}

func parkKey(key string) string { return "saml:park:" + key }

// resume answers a parked request once the user is back from the portal.
// It is validated again in full, as of its arrival.
func (h *Handler) resume(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("key")
	var p parked
	data, _, err := h.Replay.Get(r.Context(), parkKey(key))
	if err == nil && (len(key) > 64 || json.Unmarshal(data, &p) != nil) {
		err = session.ErrNotFound
	}
	switch {
	case errors.Is(err, session.ErrNotFound) || key == "":
		rf := badRequest("parked request unknown or expired")
		rf.Title, rf.Message = "Sign-in request expired", "This sign-in took too long. Go back to the app and start again."
		h.refuse(w, r, rf, event(RequestInfo{}, store.App{}))
		return
	case err != nil:
		h.unavailable(w, r, err)
		return
	}
	h.serveAuthn(w, p.request(r), &ssoFlow{lookup: lookup{h: h}, arrived: p.Arrived, parkKey: key})
}

// request rebuilds the parked request on the current one, which carries
// the browser's cookies.
func (p parked) request(r *http.Request) *http.Request {
	rr := r.Clone(r.Context())
	rr.Method = p.Method
	rr.URL = &url.URL{Path: SSOPath, RawQuery: p.Query}
	rr.RequestURI = rr.URL.RequestURI()
	rr.Form, rr.PostForm = nil, nil
	if p.Method == http.MethodPost {
		rr.Body = io.NopCloser(strings.NewReader(p.Form))
		rr.ContentLength = int64(len(p.Form))
		rr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return rr
}

// unpark deletes the parked copy once the request has been answered one way
// or another; it is kept while the browser is away signing in.
func (h *Handler) unpark(r *http.Request, f *ssoFlow) {
	if f.parkKey == "" || f.redirected {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	if err := h.Replay.Delete(ctx, parkKey(f.parkKey)); err != nil {
		h.logger().WarnContext(ctx, "saml: parked request not deleted", "err", err)
	}
}

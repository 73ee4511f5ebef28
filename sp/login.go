package sp

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// browserCookie holds a random value naming this browser to the SP: each
// request we send records its hash, and the Response answering it is
// accepted only from the browser holding the value (saml-profiles
// §4.1.4.3 asks the SP to tie a Response to the request and its browser).
const browserCookie = "portcullis_sp"

// pending is an AuthnRequest we sent and not yet answered, kept in the
// session backend under its ID for RequestTTL.
type pending struct {
	IdP     int64  `json:"idp"`
	Return  string `json:"return"`
	Browser string `json:"browser"` // hex SHA-256 of the browser cookie
}

func requestKey(id string) string { return "saml:sp:request:" + id }

// login serves /saml/sp/login?idp=NAME[&return=…][&prompt=login]: it sends
// the browser to the IdP with a signed AuthnRequest, over HTTP-Redirect
// when the IdP offers it and HTTP-POST otherwise. prompt=login (our
// portal's ForceAuthn) asks the IdP to authenticate again too.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	u, err := h.byName(r.Context(), q.Get("idp"))
	switch {
	case errors.Is(err, store.ErrNotFound) || q.Get("idp") == "":
		h.Render.Error(w, r, http.StatusNotFound, "Unknown sign-in provider",
			"There is no identity provider by that name. Go back and choose another way to sign in.")
		return
	case err != nil:
		h.failed(w, r, err)
		return
	}
	sp, _, err := h.serviceProvider(r.Context(), u)
	if err != nil {
		h.failed(w, r, err)
		return
	}
	ep := u.meta.SSO[0] // ParseMetadata requires one; Redirect preferred below
	for _, e := range u.meta.SSO {
		if e.Binding == saml.HTTPRedirectBinding {
			ep = e
			break
		}
	}
	if q.Get("prompt") == "login" {
		force := true
		sp.ForceAuthn = &force
	}
	req, err := sp.MakeAuthenticationRequest(ep.Location, ep.Binding, saml.HTTPPostBinding)
	if err != nil {
		h.failed(w, r, err)
		return
	}
	if err := h.remember(w, r, req.ID, pending{IdP: u.ID, Return: h.returnTarget(q.Get("return"))}); err != nil {
		h.failed(w, r, err)
		return
	}
	if err := h.send(w, r, sp, req, ep); err != nil {
		h.failed(w, r, err)
	}
}

// send delivers the AuthnRequest with ep's binding.
func (h *Handler) send(w http.ResponseWriter, r *http.Request, sp *saml.ServiceProvider, req *saml.AuthnRequest, ep Endpoint) error {
	if ep.Binding == saml.HTTPRedirectBinding {
		to, err := redirectURL(ep.Location, "SAMLRequest", req.Element(), "", sp.Key)
		if err != nil {
			return err
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return nil
	}
	doc := etree.NewDocument()
	doc.SetRoot(req.Element()) // signed by MakeAuthenticationRequest
	raw, err := doc.WriteToBytes()
	if err != nil {
		return err
	}
	return h.Render.Post(w, r, web.PostData{URL: ep.Location, Heading: "Signing you in",
		Message: "Taking you to your organisation's sign-in page…",
		Fields:  []web.Field{{Name: "SAMLRequest", Value: base64.StdEncoding.EncodeToString(raw)}}})
}

// remember records the request under its ID, tied to this browser.
func (h *Handler) remember(w http.ResponseWriter, r *http.Request, id string, p pending) error {
	nonce := ""
	if c, err := r.Cookie(browserCookie); err == nil && len(c.Value) >= 16 && len(c.Value) <= 64 {
		nonce = c.Value
	} else {
		nonce = rand.Text()
	}
	p.Browser = digest(nonce)
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if err := h.replay().Put(r.Context(), requestKey(id), 0, data, RequestTTL); err != nil {
		return err
	}
	http.SetCookie(w, h.cookie(browserCookie, nonce, int(RequestTTL/time.Second)))
	return nil
}

// take returns the request id if we sent it to u from this browser and it
// is unanswered, and marks it answered on every node (the first taker
// wins). It returns (nil, nil) when the request is not one this browser
// may answer, and an error only when the backend failed.
func (h *Handler) take(ctx context.Context, r *http.Request, u *upstreamIdP, id string) (*pending, error) {
	c, err := r.Cookie(browserCookie)
	if err != nil || len(id) > 256 {
		return nil, nil
	}
	data, _, err := h.replay().Get(ctx, requestKey(id))
	if errors.Is(err, session.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var p pending
	if json.Unmarshal(data, &p) != nil || p.IdP != u.ID ||
		subtle.ConstantTimeCompare([]byte(digest(c.Value)), []byte(p.Browser)) != 1 {
		return nil, nil
	}
	first, err := h.replay().Claim(ctx, "saml:sp:answered:"+id, RequestTTL)
	if err != nil || !first {
		return nil, err
	}
	if err := h.replay().Delete(ctx, requestKey(id)); err != nil {
		h.logger().WarnContext(ctx, "saml sp: answered request not deleted", "err", err)
	}
	return &p, nil
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// failed answers an error of ours: 503 when a backend is down, 500
// otherwise; never a session.
func (h *Handler) failed(w http.ResponseWriter, r *http.Request, err error) {
	if isUnavailable(err) {
		h.unavailable(w, r, err)
		return
	}
	h.Render.Fail(w, r, fmt.Errorf("saml sp: %w", err))
}

// LoginChoices lists every registered IdP with the local URL that signs in
// through it and comes back to ret; force asks the IdP to authenticate
// again (the portal's prompt=login). For the portal's sign-in page.
func (h *Handler) LoginChoices(ctx context.Context, ret string, force bool) ([]web.LoginIdP, error) {
	names, err := h.Store.IdPNames(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]web.LoginIdP, 0, len(names))
	for _, name := range names {
		q := url.Values{"idp": {name}}
		if ret != "" && ret != "/" {
			q.Set("return", ret)
		}
		if force {
			q.Set("prompt", "login")
		}
		out = append(out, web.LoginIdP{Name: name, URL: LoginPath + "?" + q.Encode()})
	}
	return out, nil
}

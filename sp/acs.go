package sp

import (
	"context"
	"crypto/rsa"
	"errors"
	"net/http"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// Audit event types of brokered sign-in and logout.
const (
	EventLogin  = "sp.login"
	EventLogout = "sp.logout"
)

// Reasons of the ACS beyond ParseResponse's: the Response was valid but
// cannot sign anyone in.
const (
	ReasonUnknownIdP   Reason = "unknown_idp"
	ReasonReplay       Reason = "replay"
	ReasonNoSubject    Reason = "no_subject"
	ReasonNoUser       Reason = "no_user"
	ReasonUserDisabled Reason = "user_disabled"
)

// arrival is what the ACS learns about one Response along the way.
type arrival struct {
	idp     *upstreamIdP
	req     *pending // the AuthnRequest it answers; nil when unsolicited
	backend error    // a backend failure while matching the request
	now     time.Time
}

// acs serves the Assertion Consumer Service (HTTP-POST binding,
// saml-profiles §4.1.4): a Response from a registered IdP is validated in
// full, its assertion ID claimed on every node, the user linked (or created
// just in time) and their groups mapped, and a session begins. Any refusal
// is a 403 with a generic page; the precise reason goes to the log and the
// audit trail.
func (h *Handler) acs(w http.ResponseWriter, r *http.Request) {
	if err := web.ParseForm(w, r); err != nil {
		h.Render.Fail(w, r, err)
		return
	}
	in := &arrival{now: h.now()}
	a, err := ParseResponseFrom(r.PostForm.Get("SAMLResponse"), func(issuer string) (Expect, error) {
		return h.expect(r, in, issuer)
	})
	if in.backend != nil {
		err = in.backend
	}
	if err == nil {
		err = h.claim(r.Context(), in, a)
	}
	if err != nil {
		h.reject(w, r, in, a, err)
		return
	}
	u, err := h.admit(r, in, a)
	if err != nil {
		h.reject(w, r, in, a, err)
		return
	}
	h.signIn(w, r, in, a, u)
}

// expect is what a Response claiming to come from issuer must match.
func (h *Handler) expect(r *http.Request, in *arrival, issuer string) (Expect, error) {
	ctx := r.Context()
	u, err := h.byEntityID(ctx, issuer)
	if errors.Is(err, store.ErrNotFound) {
		return Expect{}, refuse(ReasonUnknownIdP, "no registered IdP has entity ID %q", issuer)
	} else if err != nil {
		return Expect{}, err
	}
	in.idp = u
	key, _, _, err := h.keySet(ctx)
	if err != nil {
		return Expect{}, err
	}
	return Expect{
		EntityID: h.entityID(), ACS: h.acsURL(), IdPEntityID: u.EntityID,
		Certs: u.meta.Certs, Want: u.Settings.SignedParts(), DecryptionKeys: []*rsa.PrivateKey{key},
		AllowUnsolicited: u.Settings.AllowUnsolicited, Now: in.now, Skew: h.skew(),
		RequestIDs: func(id string) bool {
			p, err := h.take(ctx, r, u, id)
			in.req, in.backend = p, err
			return p != nil
		},
	}, nil
}

// claim records the assertion ID until the assertion expires, so that the
// same assertion is refused on every node afterwards (saml-profiles
// §4.1.4.5).
func (h *Handler) claim(ctx context.Context, in *arrival, a *Assertion) error {
	ttl := max(a.NotOnOrAfter.Add(h.skew()).Sub(in.now), time.Second)
	first, err := h.replay().Claim(ctx, "saml:sp:assertion:"+in.idp.EntityID+" "+a.ID, ttl)
	switch {
	case err != nil:
		return err
	case !first:
		return refuse(ReasonReplay, "assertion %q was used before", a.ID)
	}
	return nil
}

// reject answers a refused Response with 403 and a generic page, and
// records the precise reason; a backend failure is 503 and any other error
// of ours 500. Never a session.
func (h *Handler) reject(w http.ResponseWriter, r *http.Request, in *arrival, a *Assertion, err error) {
	reason := ReasonOf(err)
	if reason == "" {
		h.failed(w, r, err)
		return
	}
	h.count("denied")
	e := audit.Event{Type: EventLogin, Outcome: audit.Denied, Reason: err.Error(), IP: web.ClientIP(r),
		Details: map[string]string{"reason": string(reason)}}
	if in.idp != nil {
		e.Actor, e.Details["idp"] = "idp:"+in.idp.Name, in.idp.Name
	}
	if a != nil {
		e.Subject, e.Details["name_id"] = a.NameID, a.NameID
	}
	h.record(r, &e)
	h.logger().WarnContext(r.Context(), "saml sp: response refused", "reason", reason, "err", err,
		"idp", e.Details["idp"], "request_id", web.RequestID(r.Context()))
	h.Render.Error(w, r, http.StatusForbidden, "Sign-in refused",
		"Your organisation's sign-in could not be accepted here. Try signing in again; if it keeps failing, contact your administrator.")
}

// signIn begins the session: the upstream sign-in is its first factor, and
// a trusted upstream MFA statement its second (policy.UpstreamMFA).
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request, in *arrival, a *Assertion, u store.User) {
	ctx := r.Context()
	s := &session.Session{UserID: u.ID, Email: u.Email, AuthTime: in.now, IP: web.ClientIP(r),
		UserAgent: truncate(r.UserAgent(), 256), Values: map[string]string{
			ValueIdP: in.idp.Name, ValueNameID: a.NameID, ValueNameIDFormat: a.NameIDFormat,
			ValueSessionIndex: a.SessionIndex, ValueUser: u.Email}}
	s.AddFactor(session.FactorUpstream, in.now)
	if in.idp.Settings.UpstreamMFA(a.AuthnContextClassRef) {
		at := a.AuthnInstant
		if at.IsZero() || at.After(in.now) {
			at = in.now
		}
		s.AddFactor(policy.UpstreamMFA, at)
	}
	if err := h.Sessions.Login(ctx, w, r, s); err != nil {
		h.failed(w, r, err)
		return
	}
	h.count("success")
	target := "/"
	if in.req != nil {
		target = in.req.Return
	} else if rs := r.PostForm.Get("RelayState"); rs != "" {
		target = h.returnTarget(rs) // unsolicited: a local path or an allowed host only
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// admit decides who the assertion signs in, in one transaction: the user
// linked (or created just in time), their groups mapped, their last login
// set and the sp.login event written. A refusal writes nothing. A
// concurrent first login of the same user makes one of the two retry, and
// find the other's result.
func (h *Handler) admit(r *http.Request, in *arrival, a *Assertion) (store.User, error) {
	subject, err := subjectOf(in.idp, a)
	if err != nil {
		return store.User{}, err
	}
	var u store.User
	admit := func(tx store.Tx) error {
		var created bool
		if u, created, err = linkIn(r.Context(), tx, in.idp, a, subject); err != nil {
			return err
		}
		if u.Disabled {
			return refuse(ReasonUserDisabled, "user %s is disabled", u.Email)
		}
		if err := mapGroups(r.Context(), tx, in.idp, a, u); err != nil {
			return err
		}
		return recordLogin(r, tx, in, a, u, created)
	}
	err = h.Store.InTx(r.Context(), admit)
	if errors.Is(err, store.ErrConflict) {
		err = h.Store.InTx(r.Context(), admit)
	}
	return u, err
}

// recordLogin sets the user's last login with the sp.login event.
func recordLogin(r *http.Request, tx store.Tx, in *arrival, a *Assertion, u store.User, created bool) error {
	u.LastLoginAt = in.now
	return errors.Join(tx.UpdateUser(r.Context(), u), tx.Record(r.Context(), &audit.Event{
		Type: EventLogin, Actor: u.Email, Subject: u.Email, IP: web.ClientIP(r), Outcome: audit.Success,
		Details: map[string]string{"idp": in.idp.Name, "name_id": a.NameID, "created": boolText(created),
			"upstream_mfa":  boolText(in.idp.Settings.UpstreamMFA(a.AuthnContextClassRef)),
			"authn_context": a.AuthnContextClassRef, "solicited": boolText(in.req != nil)}}))
}

// record writes an audit event on its own; a failure is logged.
func (h *Handler) record(r *http.Request, e *audit.Event) {
	if err := h.Store.Record(r.Context(), e); err != nil {
		h.logger().ErrorContext(r.Context(), "audit event not written", "type", e.Type, "err", err)
	}
}

func (h *Handler) count(outcome string) {
	if h.Logins != nil {
		h.Logins(outcome)
	}
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

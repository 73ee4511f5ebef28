package webauthn

import (
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/go-webauthn/webauthn/protocol"
	gowebauthn "github.com/go-webauthn/webauthn/webauthn"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// VerifyData is the Data of mfa_webauthn.html.
type VerifyData struct {
	App   string // what asked, "" when unknown
	Token string // the continuation, posted back as "c"
	// Begin and Finish are the endpoints of the ceremony.
	Begin, Finish string
	// Other leads back to the choice of factors.
	Other string
}

// verifyPage is GET /mfa/webauthn?c=TOKEN: the step-up with a registered key.
func (f *Factor) verifyPage(w http.ResponseWriter, r *http.Request) {
	a, ok := f.core.Begin(w, r)
	if !ok {
		return
	}
	u, err := f.loadUser(r.Context(), a.User)
	if err != nil {
		f.core.Unavailable(w, r, err)
		return
	}
	if len(u.keys) == 0 || !accepts(a) {
		http.Redirect(w, r, mfa.ChoosePath+a.Query(), http.StatusSeeOther)
		return
	}
	others, err := f.others(r, a)
	if err != nil {
		f.core.Unavailable(w, r, err)
		return
	}
	path := mfa.VerifyPath(f.Name())
	data := VerifyData{App: a.Cont.App, Token: a.Token, Begin: path + "/begin", Finish: path + "/finish"}
	if others {
		data.Other = mfa.ChoosePath + a.Query()
	}
	f.core.Render.Render(w, r, http.StatusOK, "mfa_webauthn.html", web.Page{Title: "Use your security key",
		User: mfa.PageUser(a.User), Data: data})
}

// accepts reports whether the step-up a serves takes this factor at all.
func accepts(a *mfa.Attempt) bool {
	return policy.Requirement{Factors: a.Cont.Factors}.Accepts(policy.WebAuthn)
}

// others reports whether the user has another factor the step-up accepts,
// so that the page offers the way back to the choice only when there is one.
func (f *Factor) others(r *http.Request, a *mfa.Attempt) (bool, error) {
	_, names, err := f.core.Enrolled(r.Context(), a.User.ID)
	if err != nil {
		return false, err
	}
	req := policy.Requirement{Factors: a.Cont.Factors}
	return slices.ContainsFunc(names, func(n string) bool { return n != f.Name() && req.Accepts(n) }), nil
}

// verifyBegin answers the options of an assertion by one of the user's
// keys, user verification preferred: the key is the second factor here.
func (f *Factor) verifyBegin(w http.ResponseWriter, r *http.Request) {
	a, ok := f.core.Begin(w, r)
	if !ok {
		return
	}
	u, err := f.loadUser(r.Context(), a.User)
	if err != nil {
		f.unavailable(w, r, err)
		return
	}
	if len(u.keys) == 0 || !accepts(a) {
		writeJSON(w, http.StatusBadRequest, reply{Error: "You have no security key or passkey registered that can be used here."})
		return
	}
	assertion, sd, err := f.rp.BeginLogin(u, gowebauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		f.unavailable(w, r, err)
		return
	}
	f.started(w, r, ceremony{Kind: kindVerify, Bound: boundTo(a.Session), Data: *sd}, assertion.Response)
}

// verifyFinish checks the assertion and, when it holds, records the factor
// and answers where the step-up returns to.
func (f *Factor) verifyFinish(w http.ResponseWriter, r *http.Request) {
	a, ok := f.core.Begin(w, r)
	if !ok {
		return
	}
	if !accepts(a) {
		writeJSON(w, http.StatusBadRequest, reply{Error: "A security key or passkey cannot be used here."})
		return
	}
	ctx := r.Context()
	c, err := f.take(ctx, r.PostForm.Get("ceremony"), kindVerify, boundTo(a.Session))
	switch {
	case errors.Is(err, errNoCeremony):
		f.fail(w, r, a, err.Error(), http.StatusBadRequest, msgExpired)
		return
	case err != nil:
		f.unavailable(w, r, err)
		return
	}
	u, err := f.loadUser(ctx, a.User)
	if err != nil {
		f.unavailable(w, r, err)
		return
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(r.PostForm.Get("credential")))
	if err != nil {
		f.fail(w, r, a, "assertion unreadable: "+describe(err), http.StatusBadRequest, msgKeyRefused)
		return
	}
	cred, err := f.rp.ValidateLogin(u, c.Data, parsed)
	if err != nil {
		f.fail(w, r, a, "assertion refused: "+describe(err), http.StatusUnauthorized, msgKeyRefused)
		return
	}
	k, _ := u.find(cred.ID) // ValidateLogin found it among u's
	received := parsed.Response.AuthenticatorData.Counter
	e, err := store.Enrolment{}, errRegression
	if !cred.Authenticator.CloneWarning {
		e, err = f.used(ctx, k, cred, received, f.core.NowTime(), nil)
	}
	switch {
	case errors.Is(err, errRegression):
		f.counterRegression(r, a.User, k, received, a.Cont.App)
		f.fail(w, r, a, err.Error(), http.StatusUnauthorized, msgKeyRefused)
		return
	case errors.Is(err, store.ErrNotFound):
		f.fail(w, r, a, "credential removed during the ceremony", http.StatusUnauthorized, msgKeyRefused)
		return
	case err != nil:
		f.unavailable(w, r, err)
		return
	}
	f.complete(w, r, a, map[string]string{
		"enrolment": strconv.FormatInt(e.ID, 10), "name": e.Name, "user_verified": strconv.FormatBool(parsed.Response.AuthenticatorData.Flags.HasUserVerified())})
}

// fail counts a failed step-up attempt (audited with reason) and answers
// msg, or 429 once the user is over the limit.
func (f *Factor) fail(w http.ResponseWriter, r *http.Request, a *mfa.Attempt, reason string, status int, msg string) {
	wait, err := f.core.Fail(r, a, f.Name(), reason)
	switch {
	case err != nil:
		f.unavailable(w, r, err)
	case wait > 0:
		throttled(w, wait)
	default:
		writeJSON(w, status, reply{Error: msg})
	}
}

// describe is the precise reason of a go-webauthn error, for the log and
// the audit trail.
func describe(err error) string {
	if pe, ok := errors.AsType[*protocol.Error](err); ok {
		if pe.DevInfo != "" {
			return pe.Details + " (" + pe.DevInfo + ")"
		}
		return pe.Details
	}
	return err.Error()
}

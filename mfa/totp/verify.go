package totp

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// VerifyData is the Data of mfa_totp.html.
type VerifyData struct {
	App   string // what asked, "" when unknown
	Token string // the continuation, posted back as "c"
	Error string // why the last code was refused
	// Issuer is the name the app shows beside the code.
	Issuer string
	// Other is the factor choice, to use another method.
	Other string
}

// Messages the user sees when a code is refused. The audit trail gets the
// precise reason.
const (
	msgMalformed = "Enter the 6-digit code your authenticator app shows."
	msgWrong     = "That code is not right. Check the time on your phone and enter the code your app shows now."
	msgReplayed  = "That code was already used. Wait for your app to show a new one and enter that."
)

// verifyPage is GET /mfa/totp: the code form.
func (f *Factor) verifyPage(w http.ResponseWriter, r *http.Request) {
	a, _, ok := f.begin(w, r)
	if !ok {
		return
	}
	f.renderVerify(w, r, a, http.StatusOK, "")
}

// verify is POST /mfa/totp: check the code, claim its step, and let the
// core finish the step-up.
func (f *Factor) verify(w http.ResponseWriter, r *http.Request) {
	a, es, ok := f.begin(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	code, ok := cleanCode(r.PostForm.Get("code"))
	if !ok {
		f.renderVerify(w, r, a, http.StatusBadRequest, msgMalformed)
		return
	}
	k, err := f.check(ctx, a.User.ID, f.openKeys(ctx, es), code)
	if err == nil {
		err = f.touch(ctx, k.enrolment.ID)
	}
	switch {
	case errors.Is(err, errWrong), errors.Is(err, store.ErrNotFound):
		f.refuse(w, r, a, "wrong code", msgWrong, f.renderVerify)
	case errors.Is(err, errReplayed):
		f.refuse(w, r, a, "code already used", msgReplayed, f.renderVerify)
	case err != nil:
		f.core.Unavailable(w, r, err)
	default:
		f.core.Succeed(w, r, a, policy.TOTP, map[string]string{
			"enrolment": strconv.FormatInt(k.enrolment.ID, 10), "name": k.enrolment.Name})
	}
}

// begin starts a verify page with the core, then sends the user back to the
// factor choice when this continuation does not accept TOTP or they have no
// authenticator app to present. It returns the user's confirmed TOTP
// enrolments.
func (f *Factor) begin(w http.ResponseWriter, r *http.Request) (*mfa.Attempt, []store.Enrolment, bool) {
	a, ok := f.core.Begin(w, r)
	if !ok {
		return nil, nil, false
	}
	es, err := f.confirmed(r.Context(), a.User.ID)
	if err != nil {
		f.core.Unavailable(w, r, err)
		return nil, nil, false
	}
	if len(es) == 0 || !(policy.Requirement{Factors: a.Cont.Factors}).Accepts(policy.TOTP) {
		http.Redirect(w, r, mfa.ChoosePath+a.Query(), http.StatusSeeOther)
		return nil, nil, false
	}
	return a, es, true
}

// touch records when the enrolment was last used. It re-reads the row in the
// transaction so that only LastUsedAt changes (a rename in between stays).
func (f *Factor) touch(ctx context.Context, id int64) error {
	at := f.core.NowTime()
	return f.core.Store.InTx(ctx, func(tx store.Tx) error {
		e, err := tx.Enrolment(ctx, id)
		if err != nil {
			return err
		}
		e.LastUsedAt = at
		return tx.UpdateEnrolment(ctx, e)
	})
}

// refuse counts a failed attempt and shows the page again with msg, or the
// throttle page once the user must wait.
func (f *Factor) refuse(w http.ResponseWriter, r *http.Request, a *mfa.Attempt, reason, msg string,
	render func(http.ResponseWriter, *http.Request, *mfa.Attempt, int, string)) {
	wait, err := f.core.Fail(r, a, policy.TOTP, reason)
	switch {
	case err != nil:
		f.core.Unavailable(w, r, err)
	case wait > 0:
		f.core.Throttled(w, r, a, wait)
	default:
		render(w, r, a, http.StatusUnauthorized, msg)
	}
}

func (f *Factor) renderVerify(w http.ResponseWriter, r *http.Request, a *mfa.Attempt, status int, msg string) {
	f.core.Render.Render(w, r, status, "mfa_totp.html", web.Page{Title: "Enter your code", User: mfa.PageUser(a.User),
		Data: VerifyData{App: a.Cont.App, Token: a.Token, Error: msg, Issuer: f.opts.Issuer,
			Other: mfa.ChoosePath + a.Query()}})
}

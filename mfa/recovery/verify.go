package recovery

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/web"
)

// VerifyData is the Data of mfa_recovery.html.
type VerifyData struct {
	App   string // what asked, "" when unknown
	Token string // the continuation, posted back as "c"
	Error string // why the last code was refused
	Other string // the factor choice, to use another method
}

// Messages the user sees when a code is refused; the audit trail gets the
// precise reason.
const (
	msgMalformed = "Enter one of your recovery codes: ten letters and digits, like abcde-23456."
	msgWrong     = "That is not one of your recovery codes. Check it and try again."
	msgUsed      = "That recovery code was already used. Each code works once: enter another one."
)

// verifyPage is GET /mfa/recovery: the code form.
func (f *Factor) verifyPage(w http.ResponseWriter, r *http.Request) {
	a, ok := f.begin(w, r)
	if !ok {
		return
	}
	f.renderVerify(w, r, a, http.StatusOK, "")
}

// verify is POST /mfa/recovery: spend the code and let the core finish the
// step-up.
func (f *Factor) verify(w http.ResponseWriter, r *http.Request) {
	a, ok := f.begin(w, r)
	if !ok {
		return
	}
	code, ok := normalise(r.PostForm.Get("code"))
	if !ok {
		f.renderVerify(w, r, a, http.StatusBadRequest, msgMalformed)
		return
	}
	left, err := f.use(r.Context(), a.User.ID, code)
	switch {
	case errors.Is(err, errWrong):
		f.refuse(w, r, a, "wrong code", msgWrong)
	case errors.Is(err, errUsed):
		f.refuse(w, r, a, "code already used", msgUsed)
	case err != nil:
		f.core.Unavailable(w, r, err)
	default:
		f.core.Succeed(w, r, a, policy.Recovery, map[string]string{"remaining": strconv.Itoa(left)})
	}
}

// begin starts a verify page with the core, then sends the user back to the
// factor choice when this continuation does not accept recovery codes or
// they have none left.
func (f *Factor) begin(w http.ResponseWriter, r *http.Request) (*mfa.Attempt, bool) {
	a, ok := f.core.Begin(w, r)
	if !ok {
		return nil, false
	}
	es, err := f.core.Store.UserEnrolments(r.Context(), a.User.ID)
	if err != nil {
		f.core.Unavailable(w, r, err)
		return nil, false
	}
	usable := false
	for _, e := range es {
		usable = usable || e.Factor == policy.Recovery && e.Confirmed && f.Usable(e)
	}
	if !usable || !(policy.Requirement{Factors: a.Cont.Factors}).Accepts(policy.Recovery) {
		http.Redirect(w, r, mfa.ChoosePath+a.Query(), http.StatusSeeOther)
		return nil, false
	}
	return a, true
}

// refuse counts a failed attempt and shows the page again with msg, or the
// throttle page once the user must wait.
func (f *Factor) refuse(w http.ResponseWriter, r *http.Request, a *mfa.Attempt, reason, msg string) {
	wait, err := f.core.Fail(r, a, policy.Recovery, reason)
	switch {
	case err != nil:
		f.core.Unavailable(w, r, err)
	case wait > 0:
		f.core.Throttled(w, r, a, wait)
	default:
		f.renderVerify(w, r, a, http.StatusUnauthorized, msg)
	}
}

func (f *Factor) renderVerify(w http.ResponseWriter, r *http.Request, a *mfa.Attempt, status int, msg string) {
	f.core.Render.Render(w, r, status, "mfa_recovery.html", web.Page{Title: "Use a recovery code",
		User: mfa.PageUser(a.User), Data: VerifyData{App: a.Cont.App, Token: a.Token, Error: msg,
			Other: mfa.ChoosePath + a.Query()}})
}

func (f *Factor) logger() *slog.Logger {
	if f.core.Logger != nil {
		return f.core.Logger
	}
	return slog.New(slog.DiscardHandler)
}

package totp

import (
	"cmp"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

const msgExpired = "This set-up expired. Add the new key below to your app and enter the code it shows."

// EnrolData is the Data of mfa_totp_enrol.html.
type EnrolData struct {
	Token     string // the continuation, posted back as "c"; "" from the devices page
	Enrolment int64  // the pending enrolment, posted back as "enrolment"
	Name      string // the name field
	// QR is the otpauth:// URI as a PNG QR code, in a data: URL.
	QR template.URL
	// Secret is the key in base32, in groups of four, to type in.
	Secret string
	// URI is the otpauth:// URI, for an app on the same device.
	URI     template.URL
	Issuer  string
	Account string
	Error   string
	Cancel  string // where Cancel goes
}

// enrolPage is GET /mfa/totp/enrol: a key to add to an app, the user's
// pending one when they have a recent one.
func (f *Factor) enrolPage(w http.ResponseWriter, r *http.Request) {
	a, ok := f.core.BeginEnrol(w, r)
	if !ok {
		return
	}
	e, secret, err := f.pending(r.Context(), a.User.ID)
	if err != nil {
		f.core.Unavailable(w, r, err)
		return
	}
	f.renderEnrol(w, r, a, http.StatusOK, enrolForm{e: e, secret: secret, name: DefaultName})
}

// enrol is POST /mfa/totp/enrol: confirm the pending key with a code from
// the app. Only then does the enrolment count, and it counts as presented.
func (f *Factor) enrol(w http.ResponseWriter, r *http.Request) {
	a, ok := f.core.BeginEnrol(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	form := enrolForm{name: r.PostForm.Get("name")}
	var err error
	form.e, form.secret, err = f.ownPending(ctx, a.User.ID, r.PostForm.Get("enrolment"))
	if errors.Is(err, errNoPending) {
		f.restart(w, r, a, form.name)
		return
	}
	if err != nil {
		f.core.Unavailable(w, r, err)
		return
	}
	name, err := mfa.CleanName(cmp.Or(strings.TrimSpace(form.name), DefaultName))
	if err != nil {
		form.err = "Name not accepted: " + err.Error() + "."
		f.renderEnrol(w, r, a, http.StatusBadRequest, form)
		return
	}
	code, ok := cleanCode(r.PostForm.Get("code"))
	if !ok {
		form.err = msgMalformed
		f.renderEnrol(w, r, a, http.StatusBadRequest, form)
		return
	}
	f.confirmCode(w, r, a, form, name, code)
}

// confirmCode checks code against the pending key and, when it is right,
// confirms the enrolment and hands over to the core.
func (f *Factor) confirmCode(w http.ResponseWriter, r *http.Request, a *mfa.Attempt, form enrolForm, name, code string) {
	ctx := r.Context()
	again := func(w http.ResponseWriter, r *http.Request, a *mfa.Attempt, status int, msg string) {
		form.err = msg
		f.renderEnrol(w, r, a, status, form)
	}
	_, err := f.check(ctx, a.User.ID, []key{{enrolment: form.e, secret: b32.EncodeToString(form.secret)}}, code)
	var e store.Enrolment
	if err == nil {
		e, err = f.confirm(ctx, form.e.ID, a.User.ID, name)
	}
	switch {
	case errors.Is(err, errWrong):
		f.refuse(w, r, a, "wrong confirmation code", msgWrong, again)
	case errors.Is(err, errReplayed):
		f.refuse(w, r, a, "code already used", msgReplayed, again)
	case errors.Is(err, errNoPending), errors.Is(err, store.ErrNotFound):
		f.restart(w, r, a, form.name)
	case err != nil:
		f.core.Unavailable(w, r, err)
	default:
		f.core.EnrolDone(w, r, a, e, true)
	}
}

// restart shows a fresh key after a confirmation for one that is gone.
func (f *Factor) restart(w http.ResponseWriter, r *http.Request, a *mfa.Attempt, name string) {
	e, secret, err := f.pending(r.Context(), a.User.ID)
	if err != nil {
		f.core.Unavailable(w, r, err)
		return
	}
	f.renderEnrol(w, r, a, http.StatusBadRequest, enrolForm{e: e, secret: secret, name: name, err: msgExpired})
}

// enrolForm is what the enrolment page shows: the pending key, what the user
// typed, and why it was refused.
type enrolForm struct {
	e      store.Enrolment
	secret []byte
	name   string
	err    string
}

func (f *Factor) renderEnrol(w http.ResponseWriter, r *http.Request, a *mfa.Attempt, status int, form enrolForm) {
	k, err := f.otpKey(a.User.Email, form.secret)
	var qr template.URL
	if err == nil {
		qr, err = qrDataURL(k)
	}
	if err != nil {
		f.core.Render.Fail(w, r, err)
		return
	}
	cancel := mfa.DevicesPath
	if a.Token != "" {
		cancel = mfa.ChoosePath + a.Query()
	}
	f.core.Render.Render(w, r, status, "mfa_totp_enrol.html", web.Page{Title: "Set up an authenticator app",
		User: mfa.PageUser(a.User), Data: EnrolData{
			Token: a.Token, Enrolment: form.e.ID, Name: form.name, QR: qr, Secret: group(k.Secret()),
			// The URI is ours (otpauth://totp/…), built by pquerna/otp with
			// every part escaped; html/template would refuse its scheme.
			URI:    template.URL(k.URL()),
			Issuer: f.opts.Issuer, Account: a.User.Email, Error: form.err, Cancel: cancel,
		}})
}

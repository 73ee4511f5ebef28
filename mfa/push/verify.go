package push

import (
	"crypto/subtle"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/web"
)

// Page states of mfa_push.html besides the challenge states.
const (
	pageUsed = "used" // the approval already completed a step-up
	pageBusy = "busy" // over the pending limit
)

// VerifyData is the Data of mfa_push.html.
type VerifyData struct {
	App string
	// State is a challenge state (pending, denied, failed, expired) or
	// "used" or "busy".
	State     string
	Number    string // the number to match, while pending
	Challenge string // the challenge ID, posted back as "id"
	Token     string // the continuation, posted back as "c"
	StatusURL string // polled by push.js while pending
	ExpiresIn int    // seconds
	Notice    string
	RetryURL  string // a new push
	ChooseURL string // other methods
	Devices   []string
}

// EnrolData is the Data of mfa_push_enrol.html.
type EnrolData struct {
	State      string       // waiting, expired
	Link       string       // the one-time link, "" once it is no longer shown
	QR         template.URL // the link as a PNG data: URL
	Command    string       // the authenticator command line that uses it
	LinkID     string       // posted back as "l"
	Token      string       // the continuation, posted back as "c"
	StatusURL  string       // polled by push.js while waiting
	Minutes    int          // how long the link works
	Notice     string
	RestartURL string // a new link
}

// verifyPage is GET /mfa/push?c=TOKEN: it sends a push (or shows the one
// this browser already has pending for this step-up) with its number.
func (f *Factor) verifyPage(w http.ResponseWriter, r *http.Request) {
	a, ok := f.core.Begin(w, r)
	if !ok {
		return
	}
	devs, err := f.devices(r.Context(), a.User.ID)
	if err != nil {
		f.core.Unavailable(w, r, err)
		return
	}
	if len(devs) == 0 {
		f.core.Render.Error(w, r, http.StatusBadRequest, "No push device",
			"Your account has no device enrolled for push notifications. Go back and choose another way to verify.")
		return
	}
	c, created, err := f.open(r, a, web.ClientIP(r))
	switch {
	case errors.Is(err, errBusy):
		f.core.Record(r, &audit.Event{Type: mfa.EventThrottled, Actor: a.User.Email, Subject: a.User.Email,
			App: a.Cont.App, Outcome: audit.Denied, Reason: "too many pending pushes",
			Details: map[string]string{"factor": f.Name(), "limit": strconv.Itoa(f.opts.MaxPending)}})
		w.Header().Set("Retry-After", strconv.Itoa(int(f.opts.ChallengeTTL/time.Second)))
		f.render(w, r, http.StatusTooManyRequests, a, nil, VerifyData{State: pageBusy})
		return
	case err != nil:
		f.core.Unavailable(w, r, err)
		return
	}
	if created {
		f.core.Record(r, &audit.Event{Type: mfa.EventPushSent, Actor: a.User.Email, Subject: a.User.Email,
			App: a.Cont.App, Outcome: audit.Success,
			Details: map[string]string{"challenge": c.ID, "devices": strconv.Itoa(len(devs))}})
		f.sendWebhook(c, devs)
	}
	d := VerifyData{}
	for _, e := range devs {
		d.Devices = append(d.Devices, e.Name)
	}
	f.render(w, r, http.StatusOK, a, c, d)
}

// render shows mfa_push.html; with c, the challenge's state and number.
func (f *Factor) render(w http.ResponseWriter, r *http.Request, status int, a *mfa.Attempt, c *challenge, d VerifyData) {
	d.App, d.Token = a.Cont.App, a.Token
	d.RetryURL = mfa.VerifyPath(f.Name()) + a.Query()
	d.ChooseURL = mfa.ChoosePath + a.Query()
	if c != nil {
		d.State, d.Challenge = c.State, c.ID
		if c.State == StatePending {
			d.Number = strconv.Itoa(c.Number)
			d.ExpiresIn = max(int(c.Expires.Sub(f.core.NowTime())/time.Second), 0)
			d.StatusURL = mfa.VerifyPath(f.Name()) + "/status?id=" + c.ID + "&c=" + url.QueryEscape(a.Token)
		}
	}
	if c != nil && c.State == StateDone {
		d.State = pageUsed
	}
	f.core.Render.Render(w, r, status, "mfa_push.html", web.Page{Title: "Approve the sign-in",
		User: mfa.PageUser(a.User), Data: d})
}

// own loads a challenge of this browser session and step-up; any other is
// errGone, whoever it belongs to.
func (f *Factor) own(r *http.Request, a *mfa.Attempt, id string) (*challenge, error) {
	c, _, err := f.load(r.Context(), id)
	if err != nil {
		return nil, err
	}
	same := subtle.ConstantTimeCompare([]byte(c.Session), []byte(binding("session", a.Session.ID))) &
		subtle.ConstantTimeCompare([]byte(c.Cont), []byte(binding("continuation", a.Token)))
	if c.UserID != a.User.ID || same != 1 {
		return nil, errGone
	}
	if f.expired(c) {
		c = f.expire(r, c)
	}
	return c, nil
}

// verifyStatus is GET /mfa/push/status?id=ID&c=TOKEN, the page's poll.
func (f *Factor) verifyStatus(w http.ResponseWriter, r *http.Request) {
	a, ok := f.core.Begin(w, r)
	if !ok {
		return
	}
	c, err := f.own(r, a, r.Form.Get("id"))
	switch {
	case errors.Is(err, errGone):
		writeJSON(w, http.StatusNotFound, statusResponse{Status: StateExpired, Done: true})
	case err != nil:
		f.core.Unavailable(w, r, err)
	default:
		s := statusResponse{Status: c.State, Done: c.State != StatePending}
		if !s.Done {
			s.ExpiresIn = max(int(c.Expires.Sub(f.core.NowTime())/time.Second), 0)
		}
		writeJSON(w, http.StatusOK, s)
	}
}

// complete is POST /mfa/push: the page's form, which push.js submits once
// the status is final (or the user does, without scripts). An approval of
// a challenge made by this same browser session and step-up completes it,
// once; anything else shows the page again with what happened.
func (f *Factor) complete(w http.ResponseWriter, r *http.Request) {
	a, ok := f.core.Begin(w, r)
	if !ok {
		return
	}
	c, err := f.own(r, a, r.PostForm.Get("id"))
	switch {
	case errors.Is(err, errGone):
		f.render(w, r, http.StatusGone, a, nil, VerifyData{State: StateExpired})
		return
	case err != nil:
		f.core.Unavailable(w, r, err)
		return
	}
	switch c.State {
	case StateApproved:
		f.finish(w, r, a, c)
	case StatePending:
		f.render(w, r, http.StatusOK, a, c, VerifyData{
			Notice: "Not approved yet. Approve the sign-in on your device with the number below."})
	case StateDone:
		f.render(w, r, http.StatusConflict, a, c, VerifyData{})
	default:
		f.render(w, r, http.StatusUnauthorized, a, c, VerifyData{})
	}
}

// finish turns an approval into a presented factor. The claim and the
// versioned state change make it single-use even if two requests race.
func (f *Factor) finish(w http.ResponseWriter, r *http.Request, a *mfa.Attempt, c *challenge) {
	won, err := f.core.Replay.Claim(r.Context(), "push:done:"+c.ID, f.recordTTL(c))
	if err == nil && won {
		c, err = f.update(r.Context(), c.ID, func(c *challenge) error {
			if c.State != StateApproved {
				return errNotPending
			}
			c.State = StateDone
			return nil
		})
	}
	switch {
	case err == nil && won:
		f.core.Succeed(w, r, a, f.Name(), map[string]string{"challenge": c.ID, "device": c.Device,
			"device_name": c.DeviceName})
	case err == nil || errors.Is(err, errNotPending) || errors.Is(err, errGone):
		f.render(w, r, http.StatusConflict, a, nil, VerifyData{State: pageUsed})
	default:
		f.core.Unavailable(w, r, err)
	}
}

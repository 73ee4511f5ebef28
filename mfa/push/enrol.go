package push

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// Link states.
const (
	linkWaiting  = "waiting"  // shown, not used yet
	linkEnrolled = "enrolled" // a device used it; the browser has to confirm
	linkDone     = "done"     // the browser confirmed: the device is active
	linkExpired  = "expired"  // reported only, never stored
)

// sealLabel is the keys.SealFor label of a link's token at rest.
const sealLabel = "push enrolment link"

// link is an enrolment link's server side, stored under "push:link:ID"
// where ID is the hash of the token, so the token itself is only in the
// link (and, sealed, in Token, to show the page again).
type link struct {
	UserID    int64     `json:"u"`
	Email     string    `json:"e"`
	Session   string    `json:"s"`
	Token     []byte    `json:"t"` // sealed
	Expires   time.Time `json:"x"`
	State     string    `json:"st"`
	Enrolment int64     `json:"id,omitempty"`
	Device    string    `json:"d,omitempty"`
}

func linkKey(id string) string { return "push:link:" + id }

// linkID is the public handle of a token: the browser polls with it; the
// token cannot be derived from it.
func linkID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return b64(sum[:])
}

func userAAD(userID int64) []byte { return []byte("user " + strconv.FormatInt(userID, 10)) }

func (f *Factor) linkTTL(*link) time.Duration { return LinkTTL + recordGrace }

// enrolPage is GET /mfa/push/enrol: a new one-time link, as text and QR
// code, and a page that waits for the device and then moves on by itself.
func (f *Factor) enrolPage(w http.ResponseWriter, r *http.Request) {
	a, ok := f.core.BeginEnrol(w, r)
	if !ok {
		return
	}
	f.sweepUnconfirmed(r.Context(), a.User.ID)
	token := b64(randomBytes(32))
	sealed, err := keys.SealFor(f.core.Master, sealLabel, []byte(token), userAAD(a.User.ID))
	if err != nil {
		f.core.Unavailable(w, r, err)
		return
	}
	l := link{UserID: a.User.ID, Email: a.User.Email, Session: binding("session", a.Session.ID), Token: sealed,
		Expires: f.core.NowTime().Add(LinkTTL), State: linkWaiting}
	data, _ := json.Marshal(l)
	if err := f.core.Replay.Put(r.Context(), linkKey(linkID(token)), 0, data, f.linkTTL(&l)); err != nil {
		f.core.Unavailable(w, r, err)
		return
	}
	f.renderEnrol(w, r, http.StatusOK, a, linkID(token), token, EnrolData{State: linkWaiting})
}

func (f *Factor) renderEnrol(w http.ResponseWriter, r *http.Request, status int, a *mfa.Attempt, id, token string, d EnrolData) {
	d.Token, d.LinkID, d.Minutes, d.RestartURL = a.Token, id, int(LinkTTL/time.Minute), mfa.EnrolPath(f.Name())+a.Query()
	if token != "" {
		d.Link = strings.TrimRight(f.opts.BaseURL, "/") + EnrolPath + "#" + token
		d.Command = "gateway authenticator enroll '" + d.Link + "'"
		qr, err := qrDataURI(d.Link)
		if err != nil {
			f.core.Unavailable(w, r, err)
			return
		}
		d.QR = qr
	}
	if d.State == linkWaiting {
		d.StatusURL = mfa.EnrolPath(f.Name()) + "/status?l=" + id
		if a.Token != "" {
			d.StatusURL += "&c=" + url.QueryEscape(a.Token)
		}
	}
	f.core.Render.Render(w, r, status, "mfa_push_enrol.html", web.Page{Title: "Set up push notifications",
		User: mfa.PageUser(a.User), Data: d})
}

// ownLink loads the link in l for the browser session that made it.
func (f *Factor) ownLink(r *http.Request, a *mfa.Attempt, id string) (*link, error) {
	if b, err := decodeB64(id); err != nil || len(b) != sha256.Size {
		return nil, errGone
	}
	data, _, err := f.core.Replay.Get(r.Context(), linkKey(id))
	if err != nil {
		return nil, notFoundAsGone(err)
	}
	var l link
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("push: link: %w", err)
	}
	if l.UserID != a.User.ID || subtle.ConstantTimeCompare([]byte(l.Session), []byte(binding("session", a.Session.ID))) != 1 {
		return nil, errGone
	}
	if l.State == linkWaiting && !f.core.NowTime().Before(l.Expires) {
		l.State = linkExpired
	}
	return &l, nil
}

// enrolStatus is GET /mfa/push/enrol/status?l=ID: the enrolment page's poll.
func (f *Factor) enrolStatus(w http.ResponseWriter, r *http.Request) {
	a, ok := f.core.BeginEnrol(w, r)
	if !ok {
		return
	}
	l, err := f.ownLink(r, a, r.Form.Get("l"))
	switch {
	case errors.Is(err, errGone):
		writeJSON(w, http.StatusNotFound, statusResponse{Status: linkExpired, Done: true})
	case err != nil:
		f.core.Unavailable(w, r, err)
	default:
		writeJSON(w, http.StatusOK, statusResponse{Status: l.State, Done: l.State != linkWaiting})
	}
}

// statusResponse answers the browser pages' polls.
type statusResponse struct {
	Status    string `json:"status"`
	Done      bool   `json:"done"` // stop polling and submit the page's form
	ExpiresIn int    `json:"expires_in,omitempty"`
}

// enrolConfirm is POST /mfa/push/enrol: the browser that showed the link
// finishes the enrolment its device started, which activates the device.
func (f *Factor) enrolConfirm(w http.ResponseWriter, r *http.Request) {
	a, ok := f.core.BeginEnrol(w, r)
	if !ok {
		return
	}
	id := r.PostForm.Get("l")
	l, err := f.ownLink(r, a, id)
	switch {
	case errors.Is(err, errGone) || err == nil && l.State == linkExpired:
		f.renderEnrol(w, r, http.StatusGone, a, id, "", EnrolData{State: linkExpired})
		return
	case err != nil:
		f.core.Unavailable(w, r, err)
		return
	case l.State == linkWaiting:
		token, err := keys.OpenFor(f.core.Master, sealLabel, l.Token, userAAD(a.User.ID))
		if err != nil {
			f.core.Unavailable(w, r, err)
			return
		}
		f.renderEnrol(w, r, http.StatusConflict, a, id, string(token), EnrolData{State: linkWaiting,
			Notice: "Your device has not used the link yet. Enrol it first; this page then moves on by itself."})
		return
	case l.State == linkDone:
		http.Redirect(w, r, afterEnrol(a), http.StatusSeeOther)
		return
	}
	f.activate(w, r, a, id, l)
}

// activate confirms the device's enrolment; of two racing confirmations
// only the one that moves the link to done finishes the enrolment.
func (f *Factor) activate(w http.ResponseWriter, r *http.Request, a *mfa.Attempt, id string, l *link) {
	ctx := r.Context()
	e, err := f.core.Store.Enrolment(ctx, l.Enrolment)
	switch {
	case errors.Is(err, store.ErrNotFound) || err == nil && (e.UserID != a.User.ID || e.Factor != f.Name()):
		f.renderEnrol(w, r, http.StatusGone, a, id, "", EnrolData{State: linkExpired})
		return
	case err != nil:
		f.core.Unavailable(w, r, err)
		return
	}
	e.Confirmed = true
	if err := f.core.Store.UpdateEnrolment(ctx, e); err != nil {
		f.core.Unavailable(w, r, err)
		return
	}
	_, err = updateRecord(ctx, f.core.Replay, linkKey(id), f.linkTTL, func(l *link) error {
		if l.State != linkEnrolled {
			return errNotPending
		}
		l.State = linkDone
		return nil
	})
	switch {
	case errors.Is(err, errNotPending):
		http.Redirect(w, r, afterEnrol(a), http.StatusSeeOther)
	case err != nil:
		f.core.Unavailable(w, r, err)
	default:
		f.core.EnrolDone(w, r, a, e, false)
	}
}

// afterEnrol is where EnrolDone sends the browser when the enrolment is not
// proven: the factor choice in a step-up, else the continuation's target.
func afterEnrol(a *mfa.Attempt) string {
	if a.Token != "" {
		return mfa.ChoosePath + a.Query()
	}
	return a.Cont.Return
}

// sweepUnconfirmed removes the user's push enrolments that a device started
// and no browser finished within a link's lifetime.
func (f *Factor) sweepUnconfirmed(ctx context.Context, userID int64) {
	all, err := f.core.Store.UserEnrolments(ctx, userID)
	if err != nil {
		return
	}
	cutoff := f.core.NowTime().Add(-LinkTTL - recordGrace)
	for _, e := range all {
		if e.Factor == f.Name() && !e.Confirmed && e.CreatedAt.Before(cutoff) {
			if err := f.core.Store.DeleteEnrolment(ctx, e.ID); err != nil {
				f.logger().WarnContext(ctx, "push: stale enrolment not removed", "id", e.ID, "err", err)
			}
		}
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

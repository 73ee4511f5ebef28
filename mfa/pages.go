package mfa

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// ChooseData is the Data of mfa_choose.html.
type ChooseData struct {
	App string // what asked, "" when unknown
	// Enrol: the user has no acceptable factor and must set one up; the
	// options are enrolment pages.
	Enrol   bool
	Options []Option
}

// Option is one link on the choice and devices pages.
type Option struct {
	Title string
	URL   string
}

// DevicesData is the Data of mfa_devices.html.
type DevicesData struct {
	Devices []Device
	Add     []Option
}

// Device is one enrolment on the devices page.
type Device struct {
	ID       int64
	Kind     string // the factor's title
	Name     string
	Created  string
	LastUsed string // "" never
}

// offerOrder is the order factors are offered in: phishing-resistant first,
// recovery codes last.
var offerOrder = []string{policy.WebAuthn, policy.Push, policy.TOTP, policy.Recovery}

func (h *Handler) ordered() []Factor {
	fs := slices.Clone(h.factors)
	slices.SortStableFunc(fs, func(a, b Factor) int {
		return rank(a.Name()) - rank(b.Name())
	})
	return fs
}

func rank(name string) int {
	if i := slices.Index(offerOrder, name); i >= 0 {
		return i
	}
	return len(offerOrder)
}

// choose is GET /mfa: the factors the user can present for this
// continuation (straight to the factor when there is one), or, in the
// enrol-on-first-use flow, the factors they can set up.
func (h *Handler) choose(w http.ResponseWriter, r *http.Request) {
	a, ok := h.Begin(w, r)
	if !ok {
		return
	}
	_, names, err := h.Enrolled(r.Context(), a.User.ID)
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	req := policy.Requirement{Factors: a.Cont.Factors}
	var verify, enrol []Option
	for _, f := range h.ordered() {
		if !req.Accepts(f.Name()) {
			continue
		}
		if slices.Contains(names, f.Name()) {
			verify = append(verify, Option{Title: f.Title(), URL: VerifyPath(f.Name()) + a.Query()})
		}
		if f.Name() != policy.Recovery {
			enrol = append(enrol, Option{Title: f.Title(), URL: EnrolPath(f.Name()) + a.Query()})
		}
	}
	data := ChooseData{App: a.Cont.App, Options: verify}
	switch {
	case len(verify) == 1:
		http.Redirect(w, r, verify[0].URL, http.StatusSeeOther)
		return
	case len(verify) == 0 && a.Cont.Enrol && len(enrol) > 0:
		data = ChooseData{App: a.Cont.App, Enrol: true, Options: enrol}
	case len(verify) == 0:
		h.Refuse(w, r, a.User, a.Cont.App, "no acceptable factor enrolled")
		return
	}
	h.Render.Render(w, r, http.StatusOK, "mfa_choose.html", web.Page{Title: "Verify it's you",
		User: PageUser(a.User), Data: data})
}

// devices is GET /mfa/devices: the user's factors, with rename and remove,
// and links to add more.
func (h *Handler) devices(w http.ResponseWriter, r *http.Request) {
	a, ok := h.signedIn(w, r, DevicesPath)
	if !ok {
		return
	}
	all, err := h.Store.UserEnrolments(r.Context(), a.User.ID)
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	var data DevicesData
	for _, e := range all {
		f, ok := h.Factor(e.Factor)
		if !e.Confirmed || !ok {
			continue
		}
		d := Device{ID: e.ID, Kind: f.Title(), Name: e.Name, Created: e.CreatedAt.UTC().Format(time.DateOnly)}
		if !e.LastUsedAt.IsZero() {
			d.LastUsed = e.LastUsedAt.UTC().Format(time.DateTime + " MST")
		}
		data.Devices = append(data.Devices, d)
	}
	for _, f := range h.ordered() {
		data.Add = append(data.Add, Option{Title: f.Title(), URL: EnrolPath(f.Name())})
	}
	h.Render.Render(w, r, http.StatusOK, "mfa_devices.html", web.Page{Title: "Two-step verification",
		User: PageUser(a.User), Data: data})
}

// MaxNameLength bounds an enrolment's name.
const MaxNameLength = 64

// CleanName trims a user-given device name and checks it: printable, not
// empty, at most MaxNameLength bytes.
func CleanName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > MaxNameLength || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", errors.New("give a name of 1 to 64 printable characters")
	}
	return s, nil
}

// ownEnrolment loads the enrolment in the path for a POST on the devices
// page, answering 404 when it is not the user's.
func (h *Handler) ownEnrolment(w http.ResponseWriter, r *http.Request) (*Attempt, store.Enrolment, bool) {
	var e store.Enrolment
	if err := web.ParseForm(w, r); err != nil {
		h.Render.Fail(w, r, err)
		return nil, e, false
	}
	a, ok := h.signedIn(w, r, DevicesPath)
	if !ok {
		return nil, e, false
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		e, err = h.Store.Enrolment(r.Context(), id)
	}
	switch {
	case err != nil && !isUnavailable(err) || err == nil && e.UserID != a.User.ID:
		h.Render.Error(w, r, http.StatusNotFound, "Not found", "That verification method does not exist.")
		return nil, e, false
	case err != nil:
		h.unavailable(w, r, err)
		return nil, e, false
	}
	return a, e, true
}

func (h *Handler) rename(w http.ResponseWriter, r *http.Request) {
	a, e, ok := h.ownEnrolment(w, r)
	if !ok {
		return
	}
	name, err := CleanName(r.PostForm.Get("name"))
	if err != nil {
		h.Render.Error(w, r, http.StatusBadRequest, "Name not accepted", "Name not accepted: "+err.Error()+".")
		return
	}
	old := e.Name
	e.Name = name
	err = h.Store.InTx(r.Context(), func(tx store.Tx) error {
		return errors.Join(tx.UpdateEnrolment(r.Context(), e), tx.Record(r.Context(), &audit.Event{
			Type: EventRenamed, Actor: a.User.Email, Subject: a.User.Email, IP: web.ClientIP(r), Outcome: audit.Success,
			Details: map[string]string{"factor": e.Factor, "id": strconv.FormatInt(e.ID, 10), "from": old, "to": name}}))
	})
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	http.Redirect(w, r, DevicesPath, http.StatusSeeOther)
}

// remove deletes one of the user's factors. It needs a recent second factor,
// like adding one; the step-up returns to the devices page, where the user
// clicks again.
func (h *Handler) remove(w http.ResponseWriter, r *http.Request) {
	a, e, ok := h.ownEnrolment(w, r)
	if !ok {
		return
	}
	if a.Session.MFATime.IsZero() || h.NowTime().Sub(a.Session.MFATime) > RecentMFA {
		c := Continuation{UserID: a.User.ID, Return: DevicesPath, App: "Account security",
			Expires: h.NowTime().Add(ContinuationTTL).Unix()}
		http.Redirect(w, r, ChoosePath+"?c="+c.sign(h.ContinuationKey), http.StatusSeeOther)
		return
	}
	err := h.Store.InTx(r.Context(), func(tx store.Tx) error {
		return errors.Join(tx.DeleteEnrolment(r.Context(), e.ID), tx.Record(r.Context(), &audit.Event{
			Type: EventRemoved, Actor: a.User.Email, Subject: a.User.Email, IP: web.ClientIP(r), Outcome: audit.Success,
			Details: map[string]string{"factor": e.Factor, "id": strconv.FormatInt(e.ID, 10), "name": e.Name}}))
	})
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	http.Redirect(w, r, DevicesPath, http.StatusSeeOther)
}

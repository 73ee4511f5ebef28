package recovery

import (
	"context"
	"net/http"
	"strconv"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// EnrolData is the Data of mfa_recovery_enrol.html.
type EnrolData struct {
	Token string // the continuation, posted back as "c"
	// Total is how many codes the current set has (0: no set), Remaining
	// how many of them are unused.
	Total, Remaining int
	// Allowed is false while the user has no other usable factor: codes
	// are a backup for one.
	Allowed bool
	Error   string
	Cancel  string // where Cancel goes
}

// CodesData is the Data of mfa_recovery_codes.html.
type CodesData struct {
	Codes    []string // as xxxxx-xxxxx
	Replaced bool     // an older set stopped working
	Continue string   // where the browser goes once they are saved
}

const msgNeedsFactor = "Set up an authenticator app, a security key or a phone first: recovery codes are a backup for one of them."

// enrolPage is GET /mfa/recovery/enrol: what the codes are, how many of the
// current set are left, and the button that makes a new set.
func (f *Factor) enrolPage(w http.ResponseWriter, r *http.Request) {
	a, ok := f.core.BeginEnrol(w, r)
	if !ok {
		return
	}
	st, err := f.status(r.Context(), a.User.ID)
	if err != nil {
		f.core.Unavailable(w, r, err)
		return
	}
	f.renderEnrol(w, r, a, http.StatusOK, st, "")
}

// enrol is POST /mfa/recovery/enrol: make a new set, replacing the old one,
// and show its codes this once.
func (f *Factor) enrol(w http.ResponseWriter, r *http.Request) {
	a, ok := f.core.BeginEnrol(w, r)
	if !ok {
		return
	}
	st, err := f.status(r.Context(), a.User.ID)
	if err != nil {
		f.core.Unavailable(w, r, err)
		return
	}
	if !st.allowed {
		f.renderEnrol(w, r, a, http.StatusConflict, st, msgNeedsFactor)
		return
	}
	codes, err := newCodes(f.rand, Count)
	if err != nil {
		f.core.Render.Fail(w, r, err)
		return
	}
	e, err := f.replace(r, a, codes)
	if err != nil {
		f.core.Unavailable(w, r, err)
		return
	}
	data := CodesData{Replaced: st.total > 0, Continue: f.enrolDone(r, a, e)}
	for _, c := range codes {
		data.Codes = append(data.Codes, display(c))
	}
	f.core.Render.Render(w, r, http.StatusOK, "mfa_recovery_codes.html", web.Page{Title: "Save your recovery codes",
		User: mfa.PageUser(a.User), Data: data})
}

// status is what the set-up page needs to know about the user.
type status struct {
	allowed          bool // another usable factor is enrolled
	total, remaining int  // the current set
}

func (f *Factor) status(ctx context.Context, userID int64) (status, error) {
	var st status
	all, err := f.core.Store.UserEnrolments(ctx, userID)
	if err != nil {
		return st, err
	}
	for _, e := range all {
		if !e.Confirmed {
			continue
		}
		if e.Factor == policy.Recovery {
			if s, err := decodeSet(e.Data); err == nil {
				st.total, st.remaining = len(s.Codes), s.unused()
			}
			continue
		}
		other, ok := f.core.Factor(e.Factor)
		u, limited := other.(mfa.Usable)
		st.allowed = st.allowed || ok && (!limited || u.Usable(e))
	}
	return st, nil
}

// replace stores a set of the codes' hashes as the user's one recovery
// enrolment, deleting (and auditing) any older set in the same transaction.
func (f *Factor) replace(r *http.Request, a *mfa.Attempt, codes []string) (store.Enrolment, error) {
	ctx := r.Context()
	var s set
	for _, c := range codes {
		s.Codes = append(s.Codes, entry{Hash: f.hash(a.User.ID, c)})
	}
	e := store.Enrolment{UserID: a.User.ID, Factor: policy.Recovery, Name: Name, Data: s.encode(), Confirmed: true,
		CreatedAt: f.core.NowTime()}
	err := f.core.Store.InTx(ctx, func(tx store.Tx) error {
		all, err := tx.UserEnrolments(ctx, a.User.ID)
		if err != nil {
			return err
		}
		for _, old := range all {
			if old.Factor != policy.Recovery {
				continue
			}
			if err := tx.DeleteEnrolment(ctx, old.ID); err != nil {
				return err
			}
			if err := tx.Record(ctx, &audit.Event{Type: mfa.EventRemoved, Actor: a.User.Email, Subject: a.User.Email,
				App: a.Cont.App, IP: web.ClientIP(r), Outcome: audit.Success, Reason: "replaced by a new set",
				Details: map[string]string{"factor": policy.Recovery, "id": strconv.FormatInt(old.ID, 10)}}); err != nil {
				return err
			}
		}
		return tx.CreateEnrolment(ctx, &e)
	})
	return e, err
}

// enrolDone has the core finish the enrolment (its audit event, and where
// the browser goes next) but returns that target instead of redirecting to
// it: the codes must be shown first, and only here.
func (f *Factor) enrolDone(r *http.Request, a *mfa.Attempt, e store.Enrolment) string {
	f.core.RecordEnrolment(r, a, e)
	return f.core.AfterEnrol(a)
}

func (f *Factor) renderEnrol(w http.ResponseWriter, r *http.Request, a *mfa.Attempt, code int, st status, msg string) {
	cancel := mfa.DevicesPath
	if a.Token != "" {
		cancel = mfa.ChoosePath + a.Query()
	}
	f.core.Render.Render(w, r, code, "mfa_recovery_enrol.html", web.Page{Title: "Recovery codes",
		User: mfa.PageUser(a.User), Data: EnrolData{Token: a.Token, Total: st.total, Remaining: st.remaining,
			Allowed: st.allowed, Error: msg, Cancel: cancel}})
}

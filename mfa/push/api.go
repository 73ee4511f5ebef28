package push

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// deliver is GET /push/v1/challenges[?wait=SECONDS]: the pending pushes of
// the device's user. With none it holds the request until one appears or
// wait (default and at most MaxWait) has passed, reading the session backend
// every PollInterval, so a push made on any node is delivered.
func (f *Factor) deliver(w http.ResponseWriter, r *http.Request) {
	dev, aerr := f.authenticate(r, nil)
	if aerr != nil {
		f.fail(w, r, aerr)
		return
	}
	wait := MaxWait
	if q := r.URL.Query().Get("wait"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 0 || time.Duration(n)*time.Second > MaxWait {
			f.fail(w, r, badRequest("wait must be 0 to 25 seconds"))
			return
		}
		wait = time.Duration(n) * time.Second
	}
	deadline := time.Now().Add(wait)
	woken, done := f.wake.add(dev.user.ID)
	defer done()
	for {
		live, err := f.pending(r, dev.user.ID)
		if err != nil {
			f.fail(w, r, unavailable(err))
			return
		}
		left := time.Until(deadline)
		if len(live) > 0 || left <= 0 || f.draining() {
			resp := ChallengesResponse{Challenges: []Challenge{}}
			for _, c := range live {
				resp.Challenges = append(resp.Challenges, c.view())
			}
			writeJSON(w, http.StatusOK, resp)
			return
		}
		t := time.NewTimer(min(left, f.opts.PollInterval))
		select {
		case <-woken:
		case <-t.C:
		case <-f.drained:
		case <-r.Context().Done():
			t.Stop()
			return
		}
		t.Stop()
	}
}

func (f *Factor) draining() bool {
	select {
	case <-f.drained:
		return true
	default:
		return false
	}
}

// answer is POST /push/v1/challenges/{id}: a device approves (with the
// number the browser shows) or denies. Only a device of the challenge's
// user may answer, only once, and only before it expires.
func (f *Factor) answer(w http.ResponseWriter, r *http.Request) {
	body, aerr := readBody(w, r)
	if aerr == nil {
		var dev *device
		if dev, aerr = f.authenticate(r, body); aerr == nil {
			var req AnswerRequest
			if aerr = decodeStrict(body, &req); aerr == nil {
				aerr = f.decide(w, r, dev, r.PathValue("id"), req)
			}
		}
	}
	if aerr != nil {
		f.fail(w, r, aerr)
	}
}

func (f *Factor) decide(w http.ResponseWriter, r *http.Request, dev *device, id string, req AnswerRequest) *apiError {
	switch {
	case req.Decision != Approve && req.Decision != Deny:
		return badRequest(`decision must be "approve" or "deny"`)
	case req.Decision == Approve && (req.Number < 10 || req.Number > 99):
		return badRequest("number must be the two-digit number shown in the browser")
	}
	c, _, err := f.load(r.Context(), id)
	switch {
	case errors.Is(err, errGone):
		return notFound(id)
	case err != nil:
		return unavailable(err)
	case c.UserID != dev.user.ID:
		f.core.Record(r, &audit.Event{Type: mfa.EventFailed, Actor: dev.user.Email, Subject: c.Email, App: c.App,
			Outcome: audit.Denied, Reason: "push answered by another user's device",
			Details: map[string]string{"factor": f.Name(), "challenge": c.ID, "device": dev.id}})
		return notFound(id)
	case f.expired(c):
		f.expire(r, c)
		return gone()
	case c.State == StateExpired:
		return gone()
	case c.State != StatePending:
		return answered()
	}
	won, err := f.core.Replay.Claim(r.Context(), "push:answer:"+c.ID, f.recordTTL(c))
	if err != nil {
		return unavailable(err)
	}
	if !won {
		return answered()
	}
	return f.settle(w, r, dev, c, req)
}

// settle writes the answer that won the claim.
func (f *Factor) settle(w http.ResponseWriter, r *http.Request, dev *device, c *challenge, req AnswerRequest) *apiError {
	state := StateApproved
	switch {
	case req.Decision == Deny:
		state = StateDenied
	case subtle.ConstantTimeEq(int32(req.Number), int32(c.Number)) != 1:
		state = StateFailed
	}
	c, err := f.update(r.Context(), c.ID, func(c *challenge) error {
		if c.State != StatePending || f.expired(c) {
			return errNotPending
		}
		c.State, c.Device, c.DeviceName = state, dev.id, dev.enrolment.Name
		return nil
	})
	switch {
	case errors.Is(err, errNotPending) && c.State == StatePending:
		f.expire(r, c)
		return gone()
	case errors.Is(err, errNotPending):
		return answered()
	case errors.Is(err, errGone):
		return notFound(c.ID)
	case err != nil:
		return unavailable(err)
	}
	f.removePending(r.Context(), c.UserID, c.ID)
	f.audit(r, dev, c, req)
	if state == StateFailed {
		return &apiError{status: http.StatusForbidden, code: CodeWrongNumber,
			msg:    "the number does not match the one in the browser: this sign-in is refused. If you did not start it, change your password",
			reason: "wrong number"}
	}
	writeJSON(w, http.StatusOK, AnswerResponse{ID: c.ID, Status: state})
	return nil
}

// audit records an answer. An approval also records the device's last use,
// in the same transaction. A denial and a wrong number count as failed
// second-factor attempts for the user and the browser's address.
func (f *Factor) audit(r *http.Request, dev *device, c *challenge, req AnswerRequest) {
	ctx := r.Context()
	ev := &audit.Event{Actor: c.Email, Subject: c.Email, IP: c.IP, App: c.App,
		Details: map[string]string{"challenge": c.ID, "device": dev.id, "device_name": dev.enrolment.Name,
			"device_ip": web.ClientIP(r)}}
	switch c.State {
	case StateApproved:
		ev.Type, ev.Outcome = mfa.EventPushApproved, audit.Success
		e := dev.enrolment
		e.LastUsedAt = f.core.NowTime()
		err := f.core.Store.InTx(ctx, func(tx store.Tx) error {
			return errors.Join(tx.UpdateEnrolment(ctx, e), tx.Record(ctx, ev))
		})
		if err != nil {
			f.logger().ErrorContext(ctx, "push: approval not recorded", "challenge", c.ID, "err", err)
		}
		return
	case StateDenied:
		ev.Type, ev.Outcome, ev.Reason = mfa.EventPushDenied, audit.Denied, "denied on the device (possible fraud)"
	default:
		ev.Type, ev.Outcome = mfa.EventPushFraud, audit.Denied
		ev.Reason = "wrong number sent back: " + strconv.Itoa(req.Number)
	}
	f.core.Record(r, ev)
	if err := f.core.Throttle.Failed(ctx, c.Email, c.IP); err != nil {
		f.logger().WarnContext(ctx, "push: failure not counted", "err", err)
	}
}

func notFound(id string) *apiError {
	return &apiError{status: http.StatusNotFound, code: CodeNotFound, msg: "no such challenge", reason: "challenge " + id + " not found or another user's"}
}

func gone() *apiError {
	return &apiError{status: http.StatusGone, code: CodeExpired, msg: "the push has expired", reason: "expired"}
}

func answered() *apiError {
	return &apiError{status: http.StatusConflict, code: CodeAnswered, msg: "the push was already answered", reason: "already answered"}
}

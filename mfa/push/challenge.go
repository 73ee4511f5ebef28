package push

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/session"
)

// recordGrace is how long a challenge record outlives its expiry, so that
// the browser and the device still learn it expired (and the expiry is
// audited) rather than finding nothing.
const recordGrace = 5 * time.Minute

// casTries bounds the read-modify-write loops on the session backend.
const casTries = 20

var (
	errBusy       = errors.New("push: too many pending challenges")
	errGone       = errors.New("push: no such challenge")
	errNotPending = errors.New("push: challenge is not pending")
	errContended  = errors.New("push: session backend record kept changing")
)

// challenge is one push, stored in the session backend under
// "push:challenge:ID" so that every node sees it.
type challenge struct {
	ID      string    `json:"id"`
	UserID  int64     `json:"u"`
	Email   string    `json:"e"`
	App     string    `json:"a,omitempty"`
	IP      string    `json:"ip,omitempty"`
	Number  int       `json:"n"`
	Session string    `json:"s"` // binding of the browser session that asked
	Cont    string    `json:"c"` // binding of the continuation it serves
	Created time.Time `json:"t"`
	Expires time.Time `json:"x"`
	State   string    `json:"st"`
	// Device is the ID of the device that answered, DeviceName its name.
	Device     string `json:"d,omitempty"`
	DeviceName string `json:"dn,omitempty"`
}

// view is what a device may see.
func (c *challenge) view() Challenge {
	return Challenge{ID: c.ID, User: c.Email, App: c.App, IP: c.IP, Created: c.Created, Expires: c.Expires}
}

func challengeKey(id string) string { return "push:challenge:" + id }

// notFoundAsGone turns the backend's "no such record" into errGone.
func notFoundAsGone(err error) error {
	if errors.Is(err, session.ErrNotFound) {
		return errGone
	}
	return err
}

// newNumber draws the number to match, 10 to 99, from crypto/rand.
func newNumber() int {
	n, err := rand.Int(rand.Reader, big.NewInt(90))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return 10 + int(n.Int64())
}

// newID returns 128 random bits, base64url.
func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return b64(b)
}

// validID reports whether s can be a challenge ID or a nonce: base64url of
// 16 bytes.
func validID(s string) bool {
	b, err := decodeB64(s)
	return err == nil && len(b) == 16
}

func (f *Factor) recordTTL(c *challenge) time.Duration {
	return max(c.Expires.Sub(f.core.NowTime())+recordGrace, time.Second)
}

// load reads a challenge.
func (f *Factor) load(ctx context.Context, id string) (*challenge, int64, error) {
	if !validID(id) {
		return nil, 0, errGone
	}
	data, version, err := f.core.Replay.Get(ctx, challengeKey(id))
	if errors.Is(err, session.ErrNotFound) {
		return nil, 0, errGone
	}
	if err != nil {
		return nil, 0, err
	}
	var c challenge
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, 0, fmt.Errorf("push: challenge %s: %w", id, err)
	}
	return &c, version, nil
}

// update applies fn to the freshest copy of the challenge and writes it
// back if its version did not change meanwhile, retrying otherwise, so that
// of two racing answers exactly one wins. fn's error is returned unchanged,
// with the challenge as read, and nothing is written.
func (f *Factor) update(ctx context.Context, id string, fn func(*challenge) error) (*challenge, error) {
	if !validID(id) {
		return nil, errGone
	}
	return updateRecord(ctx, f.core.Replay, challengeKey(id), f.recordTTL, fn)
}

// updateRecord is a versioned read-modify-write of a JSON record in the
// session backend: fn changes the freshest copy, which is written back only
// if nobody wrote it meanwhile, else the whole is tried again. A missing
// record is errGone; fn's error stops it, returned with the copy fn saw.
func updateRecord[T any](ctx context.Context, st session.Store, key string, ttl func(*T) time.Duration,
	fn func(*T) error) (*T, error) {
	for range casTries {
		data, version, err := st.Get(ctx, key)
		if errors.Is(err, session.ErrNotFound) {
			return nil, errGone
		}
		if err != nil {
			return nil, err
		}
		v := new(T)
		if err := json.Unmarshal(data, v); err != nil {
			return nil, fmt.Errorf("push: record %s: %w", key, err)
		}
		if err := fn(v); err != nil {
			return v, err
		}
		data, _ = json.Marshal(v)
		err = st.Replace(ctx, key, 0, data, ttl(v), version)
		switch {
		case err == nil:
			return v, nil
		case errors.Is(err, session.ErrNotFound):
			return nil, errGone
		case !errors.Is(err, session.ErrConflict):
			return nil, err
		}
	}
	return nil, errContended
}

// expired reports whether a pending challenge has passed its expiry.
func (f *Factor) expired(c *challenge) bool {
	return c.State == StatePending && !f.core.NowTime().Before(c.Expires)
}

// expire turns a pending challenge past its expiry into an expired one and
// audits that, once: whichever request first sees it (the browser's poll,
// a device's poll or answer, the next push) does it.
func (f *Factor) expire(r *http.Request, c *challenge) *challenge {
	got, err := f.update(r.Context(), c.ID, func(c *challenge) error {
		if !f.expired(c) {
			return errNotPending
		}
		c.State = StateExpired
		return nil
	})
	if err != nil {
		if got != nil {
			return got
		}
		c.State = StateExpired // what it is, even if we could not write it
		return c
	}
	f.core.Record(r, &audit.Event{Type: mfa.EventPushExpired, Actor: got.Email, Subject: got.Email, IP: got.IP,
		App: got.App, Outcome: audit.Failure, Reason: "push not answered in time",
		Details: map[string]string{"challenge": got.ID}})
	f.removePending(r.Context(), got.UserID, got.ID)
	return got
}

// open returns the browser session's live challenge for this continuation
// (a reload shows the same number and sends no new push), or creates one.
// created reports which. Over the pending limit it returns errBusy.
func (f *Factor) open(r *http.Request, a *mfa.Attempt, ip string) (c *challenge, created bool, err error) {
	sess, cont := binding("session", a.Session.ID), binding("continuation", a.Token)
	live, idx, err := f.scan(r, a.User.ID)
	if err != nil {
		return nil, false, err
	}
	for _, c := range live {
		if c.Session == sess && c.Cont == cont {
			return c, false, nil
		}
	}
	if len(live) >= f.opts.MaxPending {
		return nil, false, errBusy
	}
	now := f.core.NowTime()
	c = &challenge{ID: newID(), UserID: a.User.ID, Email: a.User.Email, App: a.Cont.App, IP: ip,
		Number: newNumber(), Session: sess, Cont: cont, Created: now, Expires: now.Add(f.opts.ChallengeTTL),
		State: StatePending}
	data, _ := json.Marshal(c)
	// The record first: a device that finds the index entry finds the
	// challenge too.
	if err := f.core.Replay.Put(r.Context(), challengeKey(c.ID), 0, data, f.recordTTL(c)); err != nil {
		return nil, false, err
	}
	if err := f.addPending(r, c, live, idx); err != nil {
		f.core.Replay.Delete(context.WithoutCancel(r.Context()), challengeKey(c.ID))
		return nil, false, err
	}
	f.wake.notify(c.UserID)
	return c, true, nil
}

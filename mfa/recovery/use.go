package recovery

import (
	"context"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/store"
)

const (
	// claimTTL keeps a used code claimed in the session backend. The mark
	// in the enrolment is what lasts; the claim only has to outlive the
	// race between two uses.
	claimTTL = 24 * time.Hour
	// lockTTL frees the lock of a holder that died; lockWait is how long a
	// use waits for it, polling every lockPoll.
	lockTTL  = 5 * time.Second
	lockWait = 2 * time.Second
	lockPoll = 20 * time.Millisecond
)

var (
	errWrong = errors.New("recovery: not one of the user's codes")
	errUsed  = errors.New("recovery: code already used")
	errBusy  = errors.New("recovery: another use of the user's codes is in progress")
)

// use spends the user's normalised code and returns how many unused codes
// remain. It returns errWrong or errUsed when the code does not work, and
// changes nothing then.
func (f *Factor) use(ctx context.Context, userID int64, code string) (int, error) {
	h := f.hash(userID, code)
	unlock, err := f.lock(ctx, userID)
	if err != nil {
		return 0, err
	}
	defer unlock()
	var left int
	err = f.core.Store.InTx(ctx, func(tx store.Tx) error {
		e, s, err := current(ctx, tx, userID)
		if err != nil {
			return err
		}
		i := s.find(h)
		switch {
		case i < 0:
			return errWrong
		case !s.Codes[i].Used.IsZero():
			return errUsed
		}
		won, err := f.core.Replay.Claim(ctx, "recovery:"+strconv.FormatInt(userID, 10)+":"+hex.EncodeToString(h), claimTTL)
		if err != nil {
			return err
		}
		if !won {
			return errUsed
		}
		now := f.core.NowTime()
		s.Codes[i].Used = now
		e.Data, e.LastUsedAt = s.encode(), now
		left = s.unused()
		return tx.UpdateEnrolment(ctx, e)
	})
	if errors.Is(err, store.ErrNotFound) { // the set was replaced meanwhile
		err = errWrong
	}
	return left, err
}

// current returns the user's recovery enrolment and its codes; errWrong
// when they have none (every code is then wrong).
func current(ctx context.Context, tx store.Enrolments, userID int64) (store.Enrolment, set, error) {
	all, err := tx.UserEnrolments(ctx, userID)
	if err != nil {
		return store.Enrolment{}, set{}, err
	}
	for i := len(all) - 1; i >= 0; i-- {
		if e := all[i]; e.Factor == policy.Recovery && e.Confirmed {
			s, err := decodeSet(e.Data)
			if err != nil {
				return e, s, errWrong
			}
			return e, s, nil
		}
	}
	return store.Enrolment{}, set{}, errWrong
}

// lock serialises the uses of one user's codes across nodes, so that two
// uses of different codes cannot each write back a set missing the other's
// mark (the store offers no compare-and-swap). Incr is atomic on every
// session backend: the caller that takes the counter from nothing to 1
// holds the lock until it resets the counter, or until lockTTL passes if it
// dies. A holder slower than lockTTL could release a successor's lock; the
// claim in use still stops the same code winning twice.
func (f *Factor) lock(ctx context.Context, userID int64) (unlock func(), err error) {
	key := "recovery-lock:" + strconv.FormatInt(userID, 10)
	deadline := time.Now().Add(lockWait)
	for {
		n, _, err := f.core.Replay.Incr(ctx, key, lockTTL)
		if err != nil {
			return nil, err
		}
		if n == 1 {
			return func() {
				if err := f.core.Replay.Reset(context.WithoutCancel(ctx), key); err != nil {
					f.logger().WarnContext(ctx, "recovery code lock not released", "err", err)
				}
			}, nil
		}
		if time.Now().After(deadline) {
			return nil, errBusy
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(lockPoll):
		}
	}
}

package totp

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/store"
)

// pendingTTL is how long an unconfirmed key is shown again on a new visit
// and can be confirmed; older ones are deleted.
const pendingTTL = 30 * time.Minute

// errNoPending means the posted enrolment is not a pending key of the user
// (confirmed meanwhile, expired, removed, or never theirs).
var errNoPending = errors.New("totp: no such pending enrolment")

// pending returns the user's newest pending key younger than pendingTTL,
// or a new one, deleting every other pending key of theirs.
func (f *Factor) pending(ctx context.Context, userID int64) (store.Enrolment, []byte, error) {
	all, err := f.core.Store.UserEnrolments(ctx, userID)
	if err != nil {
		return store.Enrolment{}, nil, err
	}
	now := f.core.NowTime()
	var keep *store.Enrolment
	var secret []byte
	for i := len(all) - 1; i >= 0; i-- { // newest first
		e := all[i]
		if e.Factor != policy.TOTP || e.Confirmed {
			continue
		}
		if keep == nil && fresh(e, now) {
			if secret, err = f.open(e); err == nil {
				keep = &e
				continue
			}
		}
		if err := f.core.Store.DeleteEnrolment(ctx, e.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.Enrolment{}, nil, err
		}
	}
	if keep != nil {
		return *keep, secret, nil
	}
	return f.create(ctx, userID, now)
}

// create stores a new unconfirmed key for the user.
func (f *Factor) create(ctx context.Context, userID int64, now time.Time) (store.Enrolment, []byte, error) {
	secret, err := f.newSecret()
	if err != nil {
		return store.Enrolment{}, nil, err
	}
	sealed, err := f.seal(userID, secret)
	if err != nil {
		return store.Enrolment{}, nil, err
	}
	e := store.Enrolment{UserID: userID, Factor: policy.TOTP, Name: DefaultName, Data: sealed, CreatedAt: now}
	if err := f.core.Store.CreateEnrolment(ctx, &e); err != nil {
		return store.Enrolment{}, nil, err
	}
	return e, secret, nil
}

// ownPending loads the pending key whose ID was posted, or errNoPending.
func (f *Factor) ownPending(ctx context.Context, userID int64, id string) (store.Enrolment, []byte, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return store.Enrolment{}, nil, errNoPending
	}
	e, err := f.core.Store.Enrolment(ctx, n)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return e, nil, errNoPending
	case err != nil:
		return e, nil, err
	case e.UserID != userID || e.Factor != policy.TOTP || e.Confirmed || !fresh(e, f.core.NowTime()):
		return e, nil, errNoPending
	}
	secret, err := f.open(e)
	if err != nil {
		f.logger().ErrorContext(ctx, "pending totp secret does not open", "enrolment", e.ID, "err", err)
		return e, nil, errNoPending
	}
	return e, secret, nil
}

// confirm marks the pending enrolment confirmed under name, in one
// transaction that re-checks it is still pending (another tab may have
// confirmed or removed it).
func (f *Factor) confirm(ctx context.Context, id, userID int64, name string) (store.Enrolment, error) {
	now := f.core.NowTime()
	var e store.Enrolment
	err := f.core.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if e, err = tx.Enrolment(ctx, id); err != nil {
			return err
		}
		if e.UserID != userID || e.Factor != policy.TOTP || e.Confirmed {
			return errNoPending
		}
		e.Confirmed, e.Name, e.LastUsedAt = true, name, now
		return tx.UpdateEnrolment(ctx, e)
	})
	return e, err
}

func fresh(e store.Enrolment, now time.Time) bool {
	age := now.Sub(e.CreatedAt)
	return age >= -time.Minute && age < pendingTTL
}

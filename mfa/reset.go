package mfa

import (
	"context"
	"strconv"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/store"
)

// ResetUser removes every MFA enrolment of the user with email (devices,
// keys, apps, recovery codes) in one transaction with its audit event, for
// an administrator helping someone who lost their device (the CLI's users
// reset-mfa, the Enterprise API's disablemultifactor). actor names who did
// it. It returns the user and how many enrolments were removed; the user's
// next step-up where MFA is required enrols afresh (or is refused, per
// mfa.enrol_on_first_use). Ending the user's sessions is the caller's
// choice.
func ResetUser(ctx context.Context, st store.Store, email, actor string) (store.User, int, error) {
	var u store.User
	var n int
	err := st.InTx(ctx, func(tx store.Tx) error {
		var err error
		if u, err = tx.UserByEmail(ctx, email); err != nil {
			return err
		}
		if n, err = tx.DeleteUserEnrolments(ctx, u.ID); err != nil {
			return err
		}
		return tx.Record(ctx, &audit.Event{Type: EventReset, Actor: actor, Subject: u.Email, Outcome: audit.Success,
			Details: map[string]string{"removed": strconv.Itoa(n)}})
	})
	return u, n, err
}

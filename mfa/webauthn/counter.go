package webauthn

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	gowebauthn "github.com/go-webauthn/webauthn/webauthn"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/store"
)

// errRegression means the sign counter did not increase: the credential's
// private key may exist twice.
var errRegression = errors.New("webauthn: sign counter did not increase (possible cloned authenticator)")

// regressed applies WebAuthn §7.2 step 21: unless both counts are zero (an
// authenticator that keeps no counter), the received count must be greater
// than the stored one.
func regressed(stored, received uint32) bool {
	return (stored != 0 || received != 0) && received <= stored
}

// used stores what a verified assertion with k changed: the sign count and
// flags go-webauthn updated in cred, and the time of use. The counter is
// checked again against the record as it is inside the transaction, so two
// assertions racing with a cloned key cannot both advance it (errRegression).
// more, if set, writes its own part of the change in the same transaction.
func (f *Factor) used(ctx context.Context, k key, cred *gowebauthn.Credential, received uint32, now time.Time,
	more func(tx store.Tx) error) (store.Enrolment, error) {
	var out store.Enrolment
	err := f.core.Store.InTx(ctx, func(tx store.Tx) error {
		e, err := tx.Enrolment(ctx, k.e.ID)
		if err != nil {
			return err
		}
		var cur gowebauthn.Credential
		if err := json.Unmarshal(e.Data, &cur); err != nil {
			return err
		}
		if regressed(cur.Authenticator.SignCount, received) {
			return errRegression
		}
		cur.Authenticator.SignCount = received
		cur.Authenticator.CloneWarning = false
		cur.Flags = cred.Flags
		if e.Data, err = json.Marshal(cur); err != nil {
			return err
		}
		e.LastUsedAt = now
		if err := tx.UpdateEnrolment(ctx, e); err != nil {
			return err
		}
		out = e
		if more != nil {
			return more(tx)
		}
		return nil
	})
	return out, err
}

// counterRegression writes the audit event of a refused assertion whose
// counter went backwards.
func (f *Factor) counterRegression(r *http.Request, u store.User, k key, received uint32, app string) {
	f.core.Record(r, &audit.Event{Type: mfa.EventCounterRegression, Actor: u.Email, Subject: u.Email, App: app,
		Outcome: audit.Denied, Reason: errRegression.Error(), Details: map[string]string{
			"enrolment": strconv.FormatInt(k.e.ID, 10), "name": k.e.Name,
			"stored":   strconv.FormatUint(uint64(k.cred.Authenticator.SignCount), 10),
			"received": strconv.FormatUint(uint64(received), 10),
		}})
}

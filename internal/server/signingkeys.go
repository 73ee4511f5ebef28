package server

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/store"
)

// Audit event types of the signing keys.
const (
	// EventKeyCreated records the first signing key entering the store.
	EventKeyCreated = "key.created"
	// EventKeyRotated records a new signing key version.
	EventKeyRotated = "key.rotated"
)

// ErrRotationPending means a rotation is refused because a next key is
// already waiting to activate.
var ErrRotationPending = errors.New("a next signing key is already pending")

// CertName is the common name of the IdP's signing certificates: the host
// of the base URL.
func CertName(cfg *config.Config) string {
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "localhost"
}

// openSigning makes sure the store holds a signing key and sets s.Keys to
// a Keyring over it, and s.Signing to the key active at start.
func (s *Server) openSigning(ctx context.Context) error {
	imported, err := EnsureSigningKey(ctx, s.Store, s.Master, s.Config.DataDir, CertName(s.Config), s.now())
	if err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	if imported {
		s.Logger.Info("signing key imported into the store", "dir", s.Config.DataDir)
	}
	kr := NewKeyring(s.Store, s.Master, KeyringOptions{
		Rollover: s.Config.SAML.KeyRollover.D(), Now: s.now, Logger: s.Logger})
	set, err := kr.SigningKeys(ctx)
	if err != nil {
		return err
	}
	s.Keys, s.Signing = kr, set.Active
	return nil
}

// EnsureSigningKey gives a store with no signing key its first one: the
// data dir's (keys.LoadOrCreateSigning, which generates it on a first
// start), so that a single node keeps the key it always had. It is active
// from its certificate's NotBefore.
//
// The check and the insert share one transaction. Where that does not keep
// two nodes starting together from both inserting (PostgreSQL's default
// isolation), both keys are valid versions and keys.Order makes every node
// sign with the same one; the other is published as retired for one
// rollover period.
func EnsureSigningKey(ctx context.Context, st store.Store, m *keys.Master, dataDir, commonName string, now time.Time) (imported bool, err error) {
	existing, err := st.ListSigningKeys(ctx)
	if err != nil || len(existing) > 0 {
		return false, err
	}
	s, _, err := keys.LoadOrCreateSigning(dataDir, commonName, now)
	if err != nil {
		return false, err
	}
	certDER, sealed, err := keys.SealSigning(m, s)
	if err != nil {
		return false, err
	}
	k := store.SigningKey{CertDER: certDER, KeyCiphertext: sealed, ActivatesAt: s.Cert.NotBefore, CreatedAt: now}
	if now.Before(k.ActivatesAt) {
		k.ActivatesAt = now
	}
	err = st.InTx(ctx, func(tx store.Tx) error {
		existing, err := tx.ListSigningKeys(ctx)
		if err != nil || len(existing) > 0 {
			return err
		}
		if err := tx.CreateSigningKey(ctx, &k); err != nil {
			return err
		}
		imported = true
		return tx.Record(ctx, keyEvent(EventKeyCreated, "bootstrap", k, s.Cert, map[string]string{"source": "data dir"}))
	})
	return imported, err
}

// Rotation asks for a new signing key version.
type Rotation struct {
	CommonName string
	// Rollover is saml.key_rollover: the new key activates that long from
	// Now, so apps that refresh metadata meanwhile trust it in time.
	Rollover time.Duration
	// Immediate activates the new key now: for a compromised key. Apps that
	// have not refreshed our metadata reject what it signs.
	Immediate bool
	// Force replaces a next key that is already pending.
	Force bool
	Now   time.Time
	Actor string
}

// Rotated is the outcome of RotateSigningKey.
type Rotated struct {
	Key      store.SigningKey
	Cert     *x509.Certificate
	Replaced []int64 // pending next keys removed (Force)
	Pruned   []int64 // retired keys no longer published, removed
}

// RotateSigningKey adds a new RSA-2048 signing key version activating at
// r.Now + r.Rollover (or r.Now when Immediate), and records key.rotated in
// the same transaction. A pending next key makes it fail with
// ErrRotationPending unless r.Force, which replaces it. Retired keys no
// longer in metadata are deleted.
func RotateSigningKey(ctx context.Context, st store.Store, m *keys.Master, r Rotation) (Rotated, error) {
	s, err := keys.NewSigning(r.CommonName, r.Now)
	if err != nil {
		return Rotated{}, err
	}
	certDER, sealed, err := keys.SealSigning(m, s)
	if err != nil {
		return Rotated{}, err
	}
	out := Rotated{Cert: s.Cert, Key: store.SigningKey{CertDER: certDER, KeyCiphertext: sealed,
		ActivatesAt: r.Now.Add(r.Rollover), CreatedAt: r.Now}}
	if r.Immediate {
		out.Key.ActivatesAt = r.Now
	}
	err = st.InTx(ctx, func(tx store.Tx) error {
		statuses, err := SigningKeyStatuses(ctx, tx, r.Now, r.Rollover)
		if err != nil {
			return err
		}
		if !r.Immediate && !hasActive(statuses) {
			return fmt.Errorf("%w: rotate with immediate activation", keys.ErrNoActiveKey)
		}
		if err := checkMaster(ctx, tx, m, statuses); err != nil {
			return err
		}
		if out.Replaced, out.Pruned, err = clearForRotation(ctx, tx, statuses, r.Force); err != nil {
			return err
		}
		if err := tx.CreateSigningKey(ctx, &out.Key); err != nil {
			return err
		}
		return tx.Record(ctx, keyEvent(EventKeyRotated, r.Actor, out.Key, s.Cert, map[string]string{
			"immediate": strconv.FormatBool(r.Immediate), "replaced": joinIDs(out.Replaced),
			"pruned": joinIDs(out.Pruned)}))
	})
	return out, err
}

// clearForRotation deletes the pending next keys (only when force) and the
// retired keys that are no longer published.
func clearForRotation(ctx context.Context, tx store.Tx, statuses []keys.Status, force bool) (replaced, pruned []int64, err error) {
	for _, s := range statuses {
		switch {
		case s.State == keys.StateNext && !force:
			return nil, nil, fmt.Errorf("%w: key %d activates at %s", ErrRotationPending, s.ID,
				s.ActivatesAt.UTC().Format(time.RFC3339))
		case s.State == keys.StateNext:
			replaced = append(replaced, s.ID)
		case s.State == keys.StateRetired && !s.Published:
			pruned = append(pruned, s.ID)
		default:
			continue
		}
		if err := tx.DeleteSigningKey(ctx, s.ID); err != nil {
			return nil, nil, err
		}
	}
	return replaced, pruned, nil
}

// SigningKeyStatuses returns the state of every stored version at now,
// reading certificates only: no private key is opened.
func SigningKeyStatuses(ctx context.Context, st store.SigningKeys, now time.Time, rollover time.Duration) ([]keys.Status, error) {
	rows, err := st.ListSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	vs := make([]keys.Version, 0, len(rows))
	for _, r := range rows {
		cert, err := x509.ParseCertificate(r.CertDER)
		if err != nil {
			return nil, fmt.Errorf("signing key %d: %w", r.ID, err)
		}
		vs = append(vs, keys.Version{ID: r.ID, Cert: cert, ActivatesAt: r.ActivatesAt})
	}
	return keys.Classify(vs, now, rollover), nil
}

// checkMaster refuses to add a key sealed under a master secret that does
// not open the active key: the nodes could not open the new one either.
func checkMaster(ctx context.Context, tx store.Tx, m *keys.Master, statuses []keys.Status) error {
	var active int64
	for _, s := range statuses {
		if s.State == keys.StateActive {
			active = s.ID
		}
	}
	rows, err := tx.ListSigningKeys(ctx)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if r.ID != active {
			continue
		}
		if _, err := keys.OpenSigning(m, r.CertDER, r.KeyCiphertext); err != nil {
			return fmt.Errorf("this master secret does not open the active signing key %d: set master_secret (GATEWAY_MASTER_SECRET) as the servers have it: %w", r.ID, err)
		}
	}
	return nil
}

func hasActive(statuses []keys.Status) bool {
	for _, s := range statuses {
		if s.State == keys.StateActive {
			return true
		}
	}
	return false
}

func keyEvent(typ, actor string, k store.SigningKey, cert *x509.Certificate, details map[string]string) *audit.Event {
	details["id"] = strconv.FormatInt(k.ID, 10)
	details["activates_at"] = k.ActivatesAt.UTC().Format(time.RFC3339)
	return &audit.Event{Type: typ, Actor: actor, Subject: "signing key " + keys.Fingerprint(cert),
		Outcome: audit.Success, Details: details}
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ",")
}

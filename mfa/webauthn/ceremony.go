package webauthn

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	gowebauthn "github.com/go-webauthn/webauthn/webauthn"

	"github.com/portcullis/portcullis/session"
)

// CeremonyTTL is how long a begun ceremony can be finished.
const CeremonyTTL = 5 * time.Minute

// Kinds of ceremony.
const (
	kindRegister = "register"
	kindVerify   = "verify"
	kindPasskey  = "passkey"
)

// errNoCeremony means the ceremony ID is unknown, expired, already used,
// of another kind, or begun by another session.
var errNoCeremony = errors.New("webauthn: ceremony unknown, expired, already used or not this session's")

// ceremony is what a begin leaves for its finish.
type ceremony struct {
	Kind string `json:"k"`
	// Bound is what the finish must come from: a hash of the user's
	// session for step-up and registration, "" for a passkey sign-in.
	Bound string `json:"b,omitempty"`
	// Name is the name the user gave a key being registered.
	Name string                 `json:"n,omitempty"`
	Data gowebauthn.SessionData `json:"d"`
}

func ceremonyKey(id string) string { return "webauthn:ceremony:" + id }
func usedKey(id string) string     { return "webauthn:used:" + id }

// boundTo binds a ceremony to a session. Only a hash of the session ID is
// kept: the ID is the secret in the cookie.
func boundTo(s *session.Session) string {
	sum := sha256.Sum256([]byte("portcullis webauthn ceremony\x00" + s.ID))
	return hex.EncodeToString(sum[:])
}

// begin stores c and returns its ID for the browser.
func (f *Factor) begin(ctx context.Context, c ceremony) (string, error) {
	data, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("webauthn: ceremony: %w", err)
	}
	id := rand.Text()
	return id, f.core.Replay.Put(ctx, ceremonyKey(id), 0, data, CeremonyTTL)
}

// take returns the ceremony id names, once: the first call claims the ID,
// so a replayed or concurrent finish gets errNoCeremony, as does one of
// another kind or from another binding. Other errors mean the backend is
// down.
func (f *Factor) take(ctx context.Context, id, kind, bound string) (ceremony, error) {
	var c ceremony
	if id == "" || len(id) > 64 {
		return c, errNoCeremony
	}
	first, err := f.core.Replay.Claim(ctx, usedKey(id), CeremonyTTL)
	if err != nil {
		return c, err
	}
	if !first {
		return c, errNoCeremony
	}
	data, _, err := f.core.Replay.Get(ctx, ceremonyKey(id))
	switch {
	case errors.Is(err, session.ErrNotFound):
		return c, errNoCeremony
	case err != nil:
		return c, err
	}
	// Housekeeping only: the claim is what makes the ceremony single-use.
	_ = f.core.Replay.Delete(ctx, ceremonyKey(id))
	if json.Unmarshal(data, &c) != nil || c.Kind != kind || c.Bound != bound {
		return ceremony{}, errNoCeremony
	}
	return c, nil
}

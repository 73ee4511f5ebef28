// Package keys owns the gateway's key material: the master secret from which
// every symmetric key is derived (session cookie signing, CSRF, encryption
// of MFA secrets and signing keys at rest), and the IdP signing keys and
// certificates with their rotation.
//
// Decisions:
//   - With no master_secret configured, a random 256-bit secret is generated
//     on first start in <data_dir>/master.key (mode 0600) and reused after.
//     Several nodes must share one secret: set master_secret (or
//     GATEWAY_MASTER_SECRET) to the same value on each.
//   - Symmetric keys are derived with HKDF-SHA256 (RFC 5869) under a label per
//     purpose, so no two purposes ever share a key and the master secret is
//     never used directly.
//   - The signing key is RSA-2048 with a self-signed certificate valid ten
//     years. The first one is generated in <data_dir>/keys/signing.key and
//     signing.crt (PEM, key 0600); the server imports it into the store,
//     where every version lives so that all nodes share them.
//   - Rotation is a pure function of the versions, their activation times,
//     the clock and the rollover period (saml.key_rollover): the version
//     that activated last signs; later ones are published before they sign,
//     so apps that refresh our metadata trust them in time; earlier ones
//     stay published for one rollover period after they were replaced, and
//     are then dropped. No node decides a switch alone: all read the same
//     versions and clock.
//   - Private keys at rest are AES-256-GCM sealed under a key derived from
//     the master secret ("signing keys"), bound to their certificate.
//
// keys is layer 0.
package keys

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Master is the master secret.
type Master struct {
	secret []byte
}

// NewMaster wraps a configured secret (at least 32 bytes of text).
func NewMaster(secret string) (*Master, error) {
	if len(secret) < 32 {
		return nil, errors.New("keys: master secret must be at least 32 characters")
	}
	return &Master{secret: []byte(secret)}, nil
}

// LoadOrCreateMaster reads <dir>/master.key, creating it with a fresh random
// secret when it does not exist. created reports whether it was made now.
func LoadOrCreateMaster(dir string) (m *Master, created bool, err error) {
	path := filepath.Join(dir, "master.key")
	b, err := os.ReadFile(path)
	if err == nil {
		m, err = NewMaster(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		return m, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("keys: %w", err)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, false, fmt.Errorf("keys: %w", err)
	}
	text := hex.EncodeToString(secret)
	if err := writeExclusive(path, []byte(text+"\n")); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process won the race: use its secret
			return LoadOrCreateMaster(dir)
		}
		return nil, false, err
	}
	m, err = NewMaster(text)
	return m, true, err
}

// Derive returns a key of n bytes for purpose label.
func (m *Master) Derive(label string, n int) []byte {
	k, err := hkdf.Key(sha256.New, m.secret, nil, "portcullis "+label, n)
	if err != nil {
		panic(fmt.Sprintf("keys: derive %q: %v", label, err)) // only for n > 255*32
	}
	return k
}

// writeExclusive creates path with mode 0600, failing if it exists, and
// syncs it, so that a half-written secret is never read back.
func writeExclusive(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("keys: %w", err)
	}
	return nil
}

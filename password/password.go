// Package password hashes and verifies passwords with argon2id
// (golang.org/x/crypto/argon2), in the PHC string format that other tools
// (libsodium, passlib, Authelia) read:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt b64>$<hash b64>
//
// Parameters come from configuration; a stored hash keeps its own, so raising
// them later does not lock anyone out, and NeedsRehash says when to upgrade a
// hash after a successful login.
//
// Verify compares in constant time. To keep a login for an unknown user as
// slow as one for a known user, callers verify against Dummy.
//
// password is layer 0.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
}

// OWASP is the OWASP Password Storage Cheat Sheet's first argon2id
// configuration.
var OWASP = Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// ErrMalformed means a stored hash is not an argon2id PHC string.
var ErrMalformed = errors.New("password: malformed hash")

// Hasher hashes with fixed parameters.
type Hasher struct {
	Params Params

	dummyOnce sync.Once
	dummy     string
}

// Hash returns the PHC string for pw with a fresh random salt.
func (h *Hasher) Hash(pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	p := h.Params
	key := argon2.IDKey([]byte(pw), salt, p.Iterations, p.MemoryKiB, p.Parallelism, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		p.MemoryKiB, p.Iterations, p.Parallelism, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Dummy returns a hash of a random password made with h's parameters, for
// verifying against when the user does not exist.
func (h *Hasher) Dummy() string {
	h.dummyOnce.Do(func() {
		h.dummy, _ = h.Hash(rand.Text())
	})
	return h.dummy
}

// NeedsRehash reports whether encoded was made with other parameters than
// h's.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, _, _, err := decode(encoded)
	return err != nil || p != h.Params
}

// Verify reports whether pw matches encoded. A malformed hash never matches
// and returns ErrMalformed.
func Verify(pw, encoded string) (bool, error) {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.Iterations, p.MemoryKiB, p.Parallelism, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

func decode(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformed
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, ErrMalformed
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Iterations, &p.Parallelism); err != nil {
		return p, nil, nil, ErrMalformed
	}
	if p.MemoryKiB < 8 || p.MemoryKiB > 4<<20 || p.Iterations < 1 || p.Iterations > 100 || p.Parallelism < 1 {
		return p, nil, nil, ErrMalformed // bounds keep a forged hash from costing the server minutes
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, ErrMalformed
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 128 {
		return p, nil, nil, ErrMalformed
	}
	return p, salt, key, nil
}

package enterprise

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// CredentialName is the name of the one enterprise credential: LastPass has
// one API secret per company, and a new one replaces the old.
const CredentialName = "enterprise"

// NewSecret returns a new provhash (64 hex digits, as LastPass's look) and
// the hash to store. A fast keyed hash suffices: the secret has 256 bits of
// entropy, so there is nothing to guess offline.
func NewSecret(key []byte) (provhash string, hash []byte, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, err
	}
	provhash = hex.EncodeToString(b[:])
	return provhash, HashSecret(key, provhash), nil
}

// HashSecret is the stored form of a provhash.
func HashSecret(key []byte, provhash string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(provhash))
	return m.Sum(nil)
}

// EventSecretRegenerated is recorded when a new secret replaces the old
// (LastPass's "Enterprise API Secret regenerated").
const EventSecretRegenerated = "api.enterprise_secret_regenerated"

// NewCID returns a company ID for a gateway whose configuration names
// none: eight digits, as LastPass's are.
func NewCID() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	n := 10_000_000 + (uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3]))%90_000_000
	return fmt.Sprint(n), nil
}

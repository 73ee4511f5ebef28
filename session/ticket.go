package session

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// idLen is the length of a session ID in random bytes: 256 bits, so that
// neither guessing an ID nor brute-forcing a stored key from it is feasible.
const idLen = 32

// recordVersion prefixes every sealed record so the format can change
// without misreading old records.
const recordVersion = 1

// recordKeyInfo is the HKDF label for the record encryption key. It keeps
// that key independent of the storage key, which is a plain hash of the ID.
const recordKeyInfo = "portcullis session record v1"

var errBadRecord = errors.New("session: record cannot be decrypted")

// ticket is a session ID and what derives from it: the cookie carries the ID,
// the backend sees only the storage key and the sealed record.
type ticket struct {
	id  string // base64url of raw, what Session.ID holds
	raw [idLen]byte
}

// newTicket draws a fresh random session ID.
func newTicket(rand io.Reader) (ticket, error) {
	var t ticket
	if _, err := io.ReadFull(rand, t.raw[:]); err != nil {
		return ticket{}, fmt.Errorf("session: new ID: %w", err)
	}
	t.id = base64.RawURLEncoding.EncodeToString(t.raw[:])
	return t, nil
}

// parseTicket checks that id has the shape of a session ID.
func parseTicket(id string) (ticket, bool) {
	// Check the length first: Decode writes past a destination too small
	// for its input.
	if len(id) != base64.RawURLEncoding.EncodedLen(idLen) {
		return ticket{}, false
	}
	var t ticket
	n, err := base64.RawURLEncoding.Strict().Decode(t.raw[:], []byte(id))
	if err != nil || n != idLen {
		return ticket{}, false
	}
	t.id = id
	return t, true
}

// storageKey is the backend key of the record: a one-way hash, so a key read
// from a Redis dump cannot be turned back into a cookie.
func (t ticket) storageKey() string {
	sum := sha256.Sum256(t.raw[:])
	return "s:" + hex.EncodeToString(sum[:])
}

// aead returns AES-256-GCM under a key derived from the ID, so only a holder
// of the cookie can read the record.
func (t ticket) aead() (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, t.raw[:], nil, recordKeyInfo, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal encodes s as version | nonce | AES-GCM(JSON). The storage key is the
// additional data, binding the record to the key it is stored under.
func (t ticket) seal(rand io.Reader, s *Session) ([]byte, error) {
	plain, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("session: encode: %w", err)
	}
	aead, err := t.aead()
	if err != nil {
		return nil, fmt.Errorf("session: seal: %w", err)
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = recordVersion
	if _, err := io.ReadFull(rand, out[1:]); err != nil {
		return nil, fmt.Errorf("session: nonce: %w", err)
	}
	return aead.Seal(out, out[1:], plain, []byte(t.storageKey())), nil
}

// open reverses seal. Any failure means the record is not one this ID wrote.
func (t ticket) open(data []byte) (*Session, error) {
	aead, err := t.aead()
	if err != nil {
		return nil, fmt.Errorf("session: open: %w", err)
	}
	if len(data) < 1+aead.NonceSize() || data[0] != recordVersion {
		return nil, errBadRecord
	}
	nonce, box := data[1:1+aead.NonceSize()], data[1+aead.NonceSize():]
	plain, err := aead.Open(nil, nonce, box, []byte(t.storageKey()))
	if err != nil {
		return nil, errBadRecord
	}
	s := new(Session)
	if err := json.Unmarshal(plain, s); err != nil {
		return nil, fmt.Errorf("%w: %w", errBadRecord, err)
	}
	s.ID = t.id
	return s, nil
}

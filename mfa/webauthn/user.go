package webauthn

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"

	"github.com/go-webauthn/webauthn/protocol"
	gowebauthn "github.com/go-webauthn/webauthn/webauthn"

	"github.com/portcullis/portcullis/store"
)

// user is a store.User with their registered credentials, as go-webauthn
// sees a user.
type user struct {
	store.User
	handle []byte
	keys   []key
}

// key is one registered credential and the enrolment that holds it.
type key struct {
	e    store.Enrolment
	cred gowebauthn.Credential
}

var _ gowebauthn.User = (*user)(nil)

func (u *user) WebAuthnID() []byte   { return u.handle }
func (u *user) WebAuthnName() string { return u.Email }

func (u *user) WebAuthnDisplayName() string {
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}

func (u *user) WebAuthnCredentials() []gowebauthn.Credential {
	creds := make([]gowebauthn.Credential, len(u.keys))
	for i, k := range u.keys {
		creds[i] = k.cred
	}
	return creds
}

// descriptors lists the user's credentials, for excludeCredentials.
func (u *user) descriptors() []protocol.CredentialDescriptor {
	ds := make([]protocol.CredentialDescriptor, len(u.keys))
	for i, k := range u.keys {
		ds[i] = k.cred.Descriptor()
	}
	return ds
}

// find returns the key with credential ID id.
func (u *user) find(id []byte) (key, bool) {
	for _, k := range u.keys {
		if bytes.Equal(k.cred.ID, id) {
			return k, true
		}
	}
	return key{}, false
}

// loadUser gathers su's confirmed webauthn credentials. A record that does
// not decode is skipped (and logged): it can verify nothing.
func (f *Factor) loadUser(ctx context.Context, su store.User) (*user, error) {
	es, err := f.core.Store.UserEnrolments(ctx, su.ID)
	if err != nil {
		return nil, err
	}
	u := &user{User: su, handle: f.userHandle(su.ID)}
	for _, e := range es {
		if e.Factor != f.Name() || !e.Confirmed {
			continue
		}
		var c gowebauthn.Credential
		if err := json.Unmarshal(e.Data, &c); err != nil || len(c.ID) == 0 {
			f.logger().ErrorContext(ctx, "webauthn enrolment unreadable", "enrolment", e.ID, "user", su.Email, "err", err)
			continue
		}
		u.keys = append(u.keys, key{e: e, cred: c})
	}
	return u, nil
}

// userHandle is the user handle of user id: the ID in the first half of
// one AES block, zeros in the second, encrypted. It is stable, reveals
// nothing, and userOf reads the ID back without a lookup table.
func (f *Factor) userHandle(id int64) []byte {
	b := make([]byte, aes.BlockSize)
	binary.BigEndian.PutUint64(b, uint64(id))
	f.handles.Encrypt(b, b)
	return b
}

// userOf returns the user ID a handle names; ok is false when the handle is
// not one of ours.
func (f *Factor) userOf(handle []byte) (id int64, ok bool) {
	if len(handle) != aes.BlockSize {
		return 0, false
	}
	b := make([]byte, aes.BlockSize)
	f.handles.Decrypt(b, handle)
	id = int64(binary.BigEndian.Uint64(b))
	zero := make([]byte, aes.BlockSize/2)
	return id, id > 0 && subtle.ConstantTimeCompare(b[aes.BlockSize/2:], zero) == 1
}

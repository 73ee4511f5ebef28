package scim

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/portcullis/portcullis/store"
)

// A bearer token is "pcscim_" + client ID (16 hex digits) + "_" + secret
// (32 random bytes, base64url). The client ID finds the credential; the
// secret is kept only as HMAC-SHA256 under a key derived from the master
// secret, and compared in constant time. A fast hash suffices: the secret
// has 256 bits of entropy, so there is nothing to guess offline.
const tokenPrefix = "pcscim_"

// NewToken makes a token for a credential and returns the credential's
// client ID, the token to print once, and the hash to store.
func NewToken(key []byte) (clientID, token string, hash []byte, err error) {
	var id [8]byte
	var secret [32]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", "", nil, err
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return "", "", nil, err
	}
	clientID = hex.EncodeToString(id[:])
	s := base64.RawURLEncoding.EncodeToString(secret[:])
	return clientID, tokenPrefix + clientID + "_" + s, hashSecret(key, s), nil
}

func hashSecret(key []byte, secret string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// parseToken splits a token into client ID and secret.
func parseToken(token string) (clientID, secret string, ok bool) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok {
		return "", "", false
	}
	clientID, secret, ok = strings.Cut(rest, "_")
	return clientID, secret, ok && len(clientID) == 16 && secret != ""
}

var errUnauthorized = &Error{Status: http.StatusUnauthorized, Detail: "a valid bearer token is required (gateway api scim-token NAME)"}

// authenticate checks the bearer token and returns the actor it names. A
// missing, malformed, unknown or wrong token gets the same 401; a store
// failure is a 503, never a pass.
func (h *Handler) authenticate(r *http.Request) (string, error) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", errUnauthorized
	}
	clientID, secret, ok := parseToken(strings.TrimSpace(token))
	if !ok {
		return "", errUnauthorized
	}
	cred, err := h.Store.CredentialByClientID(r.Context(), store.CredentialSCIM, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return "", errUnauthorized
	}
	if err != nil {
		return "", err
	}
	if !hmac.Equal(hashSecret(h.TokenKey, secret), cred.SecretHash) {
		return "", errUnauthorized
	}
	h.tokens.touch(r, h, cred.ID)
	return "scim:" + cred.Name, nil
}

// tokenCache limits last-used updates to one a minute per credential, so
// that a sync of thousands of requests does not write thousands of rows.
type tokenCache struct {
	mu      sync.Mutex
	touched map[int64]time.Time
}

func (t *tokenCache) touch(r *http.Request, h *Handler, id int64) {
	now := h.now()
	t.mu.Lock()
	if t.touched == nil {
		t.touched = make(map[int64]time.Time)
	}
	due := now.Sub(t.touched[id]) >= time.Minute
	if due {
		t.touched[id] = now
	}
	t.mu.Unlock()
	if due {
		if err := h.Store.TouchCredential(r.Context(), id, now); err != nil {
			h.Logger.Warn("scim: recording token use failed", "credential", id, "err", err)
		}
	}
}

package keys

import (
	"context"
	"crypto/x509"
)

// Set is what a signer needs at one moment: the key that signs now, and
// every certificate to publish in metadata (the active one first, then a
// next one announced before it signs, then retiring ones kept while old
// assertions may still be checked).
type Set struct {
	Active    *Signing
	Published []*x509.Certificate
}

// Source gives the current Set. Implementations must be safe for concurrent
// use and cheap to call on every request (cache what they load).
type Source interface {
	SigningKeys(ctx context.Context) (Set, error)
}

// Static is a Source with one key that never rotates (tests, and the first
// start before a key set exists).
type Static struct{ Key *Signing }

// SigningKeys returns the one key.
func (s Static) SigningKeys(context.Context) (Set, error) {
	return Set{Active: s.Key, Published: []*x509.Certificate{s.Key.Cert}}, nil
}

package idp

import (
	"errors"
	"fmt"
	"time"

	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/session"
)

// replayCache is crewjam's AssertionReplayCache on the session backend's
// Claim, so a request ID is accepted once across every node. crewjam/saml
// records LogoutRequest IDs in it; the IdP records AuthnRequest IDs itself
// (see consume).
type replayCache struct {
	store session.Store
	now   func() time.Time
}

// Consume claims id until expiresAt (at least a second, since a backend
// cannot keep anything for no time).
func (c replayCache) Consume(id string, expiresAt time.Time) error {
	if c.store == nil {
		return errors.New("idp: no replay store")
	}
	ttl := max(expiresAt.Sub(c.now()), time.Second)
	ctx, cancel := bg()
	defer cancel()
	first, err := c.store.Claim(ctx, "saml:replay:"+id, ttl)
	switch {
	case err != nil:
		return fmt.Errorf("idp: replay cache: %w", err)
	case !first:
		return saml.ErrAssertionReplayed
	}
	return nil
}

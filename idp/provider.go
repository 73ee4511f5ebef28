package idp

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/portcullis/portcullis/keys"
)

// REFEDSMFA is the authentication context class asserted for a session with
// a second factor (https://refeds.org/profile/mfa).
const REFEDSMFA = "https://refeds.org/profile/mfa"

// PasswordProtectedTransport is saml-authn-context §3.4.7, asserted for a
// password sign-in over TLS.
const PasswordProtectedTransport = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"

// nameIDFormats are advertised in metadata (saml-metadata §2.4.1), in the
// order of the settings' short names.
var nameIDFormats = []saml.NameIDFormat{
	saml.EmailAddressNameIDFormat, saml.PersistentNameIDFormat,
	saml.TransientNameIDFormat, saml.UnspecifiedNameIDFormat,
}

// strengths ranks authentication contexts for the minimum, maximum and
// better comparisons of a RequestedAuthnContext (saml-core §3.3.2.2.1): the
// crewjam defaults scaled by ten, with REFEDS MFA above a password and below
// the certificate-based classes it does not imply.
var strengths = func() map[string]int {
	m := saml.DefaultAuthnContextClassStrengths()
	for k, v := range m {
		m[k] = v * 10
	}
	m[REFEDSMFA] = m[PasswordProtectedTransport] + 5
	return m
}()

// scope is the per-request side of a crewjam IdentityProvider: the app
// lookup (memoized for the request), the SessionProvider with the optional
// participant tracker and session invalidator, and the ResponseWriter.
type scope interface {
	saml.ServiceProviderProvider
	saml.SessionProvider
	saml.SessionParticipantTracker
	saml.SessionInvalidator
	saml.ResponseWriter
}

// identityProvider builds a crewjam IdentityProvider for one request. It is
// cheap (a struct and one call to the key source), so nothing is cached and
// a key rotation or config change is seen by the very next request.
func (h *Handler) identityProvider(ctx context.Context, p scope) (*saml.IdentityProvider, error) {
	if h.Keys == nil {
		return nil, errors.New("idp: no key source")
	}
	set, err := h.Keys.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("idp: signing keys: %w", err)
	}
	if set.Active == nil || set.Active.Key == nil || set.Active.Cert == nil {
		return nil, errors.New("idp: no active signing key")
	}
	return &saml.IdentityProvider{
		Key:                          set.Active.Key,
		Certificate:                  set.Active.Cert,
		ExtraCertificates:            extraCerts(set),
		Logger:                       slog.NewLogLogger(h.logger().Handler(), slog.LevelWarn),
		MetadataURL:                  h.entityURL(),
		SSOURL:                       h.url(SSOPath),
		LogoutURL:                    h.url(SLOPath),
		ServiceProviderProvider:      p,
		SessionProvider:              p,
		ResponseWriter:               p,
		SignatureMethod:              dsig.RSASHA256SignatureMethod,
		Clock:                        keys.DSigClock(h.now),
		NameIDFormats:                nameIDFormats,
		LogoutBindings:               []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding},
		SignMetadata:                 h.SignMetadata,
		WantAuthnRequestsSigned:      h.WantAuthnRequestsSigned,
		RejectSHA1Signatures:         true,
		ReplayCache:                  replayCache{store: h.Replay, now: h.now},
		EnforceRequestedAuthnContext: true,
		AuthnContextClassStrengths:   strengths,
		StrictACSBinding:             true,
		HTTPClient:                   h.backChannel(),
	}, nil
}

// extraCerts are the published certificates other than the active one: the
// next key announced before it signs, and retiring keys (saml-metadata §2.4.1
// allows several signing KeyDescriptors).
func extraCerts(set keys.Set) []*x509.Certificate {
	var out []*x509.Certificate
	for _, c := range set.Published {
		if c != nil && !c.Equal(set.Active.Cert) {
			out = append(out, c)
		}
	}
	return out
}

func (h *Handler) backChannel() *http.Client {
	if h.HTTPClient != nil {
		return h.HTTPClient
	}
	return &http.Client{
		Timeout:       BackChannelTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

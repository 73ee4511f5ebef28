package server

import (
	"net/url"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/mfa/webauthn"
)

// webauthnFactor builds security keys and passkeys: the RP ID is
// mfa.webauthn.rp_id or base_url's host, the origin base_url's. A base URL
// the browser cannot use as a relying party (an IP address) leaves the
// factor registered but unusable, with a warning, rather than failing the
// start: every other sign-in still works there.
func (s *Server) webauthnFactor(h *mfa.Handler) mfa.Factor {
	cfg := s.Config.MFA.WebAuthn
	base, _ := url.Parse(s.Config.BaseURL) // validated by config
	rpID := cfg.RPID
	if rpID == "" {
		rpID = base.Hostname()
	}
	f := webauthn.New(h, webauthn.Options{RPID: rpID, RPName: cfg.RPName, Origin: base.Scheme + "://" + base.Host,
		NoPasskeyLogin: !s.Config.Login.PasswordForm})
	if err := f.Err(); err != nil {
		s.Logger.Warn("security keys and passkeys are off: base_url needs a domain name", "err", err)
	}
	return f
}

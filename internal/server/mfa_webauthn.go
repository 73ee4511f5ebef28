package server

import (
	"net/url"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/mfa/webauthn"
)

func (s *Server) webauthnFactor(h *mfa.Handler) mfa.Factor {
	cfg := s.Config.MFA.WebAuthn
	base, _ := url.Parse(s.Config.BaseURL) // validated by config
	rpID := cfg.RPID
	if rpID == "" {
		rpID = base.Hostname()
	}
	return webauthn.New(h, webauthn.Options{RPID: rpID, RPName: cfg.RPName, Origin: base.Scheme + "://" + base.Host})
}

package server

import (
	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/mfa/totp"
)

func (s *Server) totpFactor(h *mfa.Handler) mfa.Factor {
	return totp.New(h, totp.Options{Issuer: s.Config.MFA.TOTP.Issuer})
}

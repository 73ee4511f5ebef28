package server

import (
	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/mfa/push"
)

func (s *Server) pushFactor(h *mfa.Handler) mfa.Factor {
	cfg := s.Config.MFA.Push
	return push.New(h, push.Options{BaseURL: s.Config.BaseURL, ChallengeTTL: cfg.ChallengeTTL.D(),
		MaxPending: cfg.MaxPending, WebhookURL: cfg.WebhookURL, WebhookSecret: cfg.WebhookSecret})
}

package server

import (
	"context"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/mfa/push"
)

// pushFactor builds push approval with number matching (config mfa.push),
// and stops its held device polls when shutdown begins, so that they do
// not keep the node up to push.MaxWait.
func (s *Server) pushFactor(h *mfa.Handler) mfa.Factor {
	cfg := s.Config.MFA.Push
	f := push.New(h, push.Options{BaseURL: s.Config.BaseURL, ChallengeTTL: cfg.ChallengeTTL.D(),
		MaxPending: cfg.MaxPending, WebhookURL: cfg.WebhookURL, WebhookSecret: cfg.WebhookSecret})
	s.AddTask(func(ctx context.Context) {
		<-ctx.Done()
		f.Drain()
	})
	return f
}

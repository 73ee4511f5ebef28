package server

import (
	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/mfa/recovery"
)

func (s *Server) recoveryFactor(h *mfa.Handler) mfa.Factor {
	return recovery.New(h)
}

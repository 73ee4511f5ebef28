package server

import (
	"net/http"

	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/web"
)

// mountMFA wires the step-up pipeline and its factors. Each factor is built
// in its own file (mfa_<factor>.go).
func (s *Server) mountMFA(mux *http.ServeMux, render *web.Renderer, csrf func(http.Handler) http.Handler) {
	cfg := s.Config.MFA
	h := &mfa.Handler{
		Store: s.Store, Sessions: s.Sessions, Current: s.Portal.Current, Render: render, Logger: s.Logger, Now: s.now,
		Throttle: &session.Throttle{Store: s.Sessions.Store(), Scope: "mfa", MaxUser: cfg.MaxFailuresPerUser,
			MaxIP: cfg.MaxFailuresPerIP, Window: cfg.Window.D()},
		Replay: s.Sessions.Store(), ContinuationKey: s.Master.Derive("mfa continuation", 32), Master: s.Master,
		EnrolOnFirstUse: cfg.EnrolOnFirstUse,
	}
	h.Register(s.webauthnFactor(h), s.pushFactor(h), s.totpFactor(h), s.recoveryFactor(h))
	h.Mount(mux, csrf)
	s.MFA = h
}

// stepUp is the IdP's StepUp seam: the app's MFA policy, raised by the
// request (ForceAuthn, a RequestedAuthnContext that only MFA meets).
func (s *Server) stepUp(w http.ResponseWriter, r *http.Request, req idp.StepUpRequest) bool {
	return s.MFA.Require(w, r, mfa.Need{User: req.User, Session: req.Session, Requirement: req.Requirement,
		App: req.App.Name, Resume: req.Resume})
}

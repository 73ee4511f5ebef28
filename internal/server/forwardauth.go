package server

import (
	"net/http"

	"github.com/portcullis/portcullis/forwardauth"
	"github.com/portcullis/portcullis/web"
)

// mountForwardAuth wires the forward-auth endpoints and lets sign-in and
// step-up return to the hosts its rules name.
func (s *Server) mountForwardAuth(mux *http.ServeMux, render *web.Renderer) error {
	cfg := s.Config.ForwardAuth
	rules, err := forwardauth.Compile(cfg.Rules, cfg.DefaultPolicy)
	if err != nil {
		return err
	}
	h := &forwardauth.Handler{Store: s.Store, Current: s.Portal.Current, MFA: s.MFA, Rules: rules,
		Headers: cfg.Headers, BaseURL: s.Config.BaseURL, Render: render, Logger: s.Logger}
	h.Mount(mux)
	s.Portal.AllowReturn = h.AllowReturn
	s.MFA.AllowReturn = h.AllowReturn
	s.ForwardAuth = h
	return nil
}

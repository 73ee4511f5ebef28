package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/sp"
	"github.com/portcullis/portcullis/web"
)

// mountSP wires the SAML service provider towards upstream IdPs and joins
// it to the other flows: the portal's sign-in page shows a button per IdP
// (and hides the password form when login.password_form is false), the
// IdP's single logout ends with the upstream IdP's, and an upstream
// LogoutRequest logs the session out of its apps. It runs after
// forward-auth, whose hosts are return targets too.
func (s *Server) mountSP(mux *http.ServeMux, render *web.Renderer, apps *idp.Handler) {
	h := &sp.Handler{
		Store: s.Store, Sessions: s.Sessions, Keys: s.Keys, Render: render, Logger: s.Logger, Now: s.now,
		BaseURL: s.Config.BaseURL, EntityID: s.Config.SAML.SPEntityID, ClockSkew: s.Config.SAML.ClockSkew.D(),
		AllowReturn: s.Portal.AllowReturn, AppsLogout: apps.SingleLogoutThen,
		Logins: upstreamLoginCounter(s.Registry),
	}
	h.Mount(mux)
	s.Portal.IdPs = h.LoginChoices
	s.Portal.NoPassword = !s.Config.Login.PasswordForm
	apps.UpstreamLogout = h.UpstreamLogout
}

func upstreamLoginCounter(reg prometheus.Registerer) func(outcome string) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portcullis_upstream_logins_total",
		Help: "Sign-ins through an upstream SAML IdP by outcome (success, denied).",
	}, []string{"outcome"})
	reg.MustRegister(c)
	for _, o := range []string{"success", "denied"} {
		c.WithLabelValues(o)
	}
	return func(outcome string) { c.WithLabelValues(outcome).Inc() }
}

package server

import (
	"context"
	"net/http"
	"net/url"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/portcullis/portcullis/forwardauth"
	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/portal"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/web"
)

// mount builds the mux with every flow and wraps it in the shared
// middleware. Outermost first: request id, panic recovery, access log,
// client IP, then the built-in reverse proxy's host switch (mountProxy),
// then for the gateway's own routes security headers, body limit
// (max_body_bytes; the Enterprise API applies its own, larger one), metrics
// (innermost, because it reads the route pattern the mux sets on the
// request it is given).
func (s *Server) mount(ctx context.Context) error {
	cfg := s.Config
	proxies, err := web.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return err
	}
	render, err := web.NewRenderer(cfg.TemplatesDir, s.Logger)
	if err != nil {
		return err
	}
	base, _ := url.Parse(cfg.BaseURL) // validated by config
	secure := base.Scheme == "https"
	csrf, err := web.NewCSRF(s.Master.Derive("csrf", 32), render, web.CSRFOptions{Secure: secure})
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{Registry: s.Registry}))
	mux.Handle("GET /static/", web.StaticHandler())
	s.Portal = &portal.Handler{
		Store: s.Store, Sessions: s.Sessions, Render: render, Hasher: s.Hasher, Logger: s.Logger, Now: s.now,
		MinLength: cfg.Passwords.MinLength, CSRF: csrf.Protect, Logins: loginCounter(s.Registry),
		Throttle: &session.Throttle{Store: s.Sessions.Store(), Scope: "login", MaxUser: cfg.Login.MaxFailuresPerUser,
			MaxIP: cfg.Login.MaxFailuresPerIP, Window: cfg.Login.Window.D()},
	}
	s.Portal.Mount(mux)
	s.mountMFA(mux, render, csrf.Protect)
	apps := s.mountIdP(mux, render)
	if err := s.mountForwardAuth(mux, render); err != nil {
		return err
	}
	s.mountSP(mux, render, apps)
	s.mountSCIM(mux)
	s.mountEnterprise(mux)

	metrics := web.NewMetrics(s.Registry)
	headers := web.SecurityHeaders(web.HeaderOptions{HSTS: secure})
	bounded := web.Chain(mux, headers, web.LimitBody(cfg.MaxBodyBytes), metrics.Middleware)
	own := web.Chain(mux, headers, metrics.Middleware)
	checks := web.Chain(mux, web.SecurityHeadersUnlessOK(web.HeaderOptions{HSTS: secure}),
		web.LimitBody(cfg.MaxBodyBytes), metrics.Middleware)
	site := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if forwardauth.IsCheck(r.URL.Path) {
			checks.ServeHTTP(w, r)
			return
		}
		if ownBodyLimit(r) {
			own.ServeHTTP(w, r)
			return
		}
		bounded.ServeHTTP(w, r)
	})
	front, err := s.mountProxy(site, headers, metrics.Middleware)
	if err != nil {
		return err
	}
	s.handler = web.Chain(front,
		web.AssignRequestID,
		web.Recover(s.Logger, render),
		web.AccessLogExcept(s.Logger, func(r *http.Request, status int) bool {
			return status == http.StatusOK && forwardauth.IsCheck(r.URL.Path)
		}),
		web.ResolveClientIP(proxies),
	)
	return nil
}

// mountIdP wires the SAML identity provider and gives the portal its two
// hooks: the apps a user may launch, and single logout on /logout.
func (s *Server) mountIdP(mux *http.ServeMux, render *web.Renderer) *idp.Handler {
	cfg := s.Config.SAML
	h := &idp.Handler{
		Store: s.Store, Sessions: s.Sessions, Current: s.Portal.Current, Keys: s.Keys,
		Replay: s.Sessions.Store(), Render: render, Logger: s.Logger, Now: s.now,
		BaseURL: s.Config.BaseURL, EntityID: cfg.EntityID, SignMetadata: cfg.SignMetadata,
		WantAuthnRequestsSigned: cfg.WantAuthnRequestsSigned,
		AssertionLifetime:       cfg.AssertionLifetime.D(), ClockSkew: cfg.ClockSkew.D(),
		PseudonymKey: s.Master.Derive("saml persistent nameid", 32),
		StepUp:       s.stepUp,
	}
	h.Mount(mux)
	s.Portal.Apps = h.AppsFor
	s.Portal.SingleLogout = h.SingleLogout
	return h
}

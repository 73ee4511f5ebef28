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
	for _, u := range cfg.Upstreams {
		rules.Cover(u.Host)
	}
	h := &forwardauth.Handler{Store: s.Store, Current: s.Portal.Current, MFA: s.MFA, Memo: s.Memo, Rules: rules,
		Headers: cfg.Headers, BaseURL: s.Config.BaseURL, Render: render, Logger: s.Logger}
	h.Mount(mux)
	s.Portal.AllowReturn = h.AllowReturn
	s.MFA.AllowReturn = h.AllowReturn
	s.ForwardAuth = h
	return nil
}

// mountProxy puts the built-in reverse proxy (forward_auth.upstreams) in
// front of site, the gateway's own routes: a request for an upstream's host
// goes to the proxy, anything else to site as before. Proxied responses
// keep the app's headers, so the security headers (pages) wrap only the
// proxy's own answers; the body limit is the gateway's forms' and does not
// apply; metrics label a proxied request "HOST/", like a mux host pattern.
func (s *Server) mountProxy(site http.Handler, pages, metrics func(http.Handler) http.Handler) (http.Handler, error) {
	ups := s.Config.ForwardAuth.Upstreams
	if len(ups) == 0 {
		return site, nil
	}
	p, err := forwardauth.NewProxy(s.ForwardAuth, forwardauth.ProxyConfig{
		Upstreams: ups, SessionCookie: s.Config.Sessions.CookieName, Pages: pages})
	if err != nil {
		return nil, err
	}
	proxied := metrics(p)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, ok := p.Serves(r)
		if !ok {
			site.ServeHTTP(w, r)
			return
		}
		r.Pattern = host + "/" // the metrics' route label
		proxied.ServeHTTP(w, r)
	}), nil
}

package server

import (
	"net/http"
	"time"

	"github.com/portcullis/portcullis/enterprise"
	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/mfa"
)

// EnterpriseSecretKey is the key the Enterprise API secret (provhash) is
// hashed with; the server and `gateway api enterprise-secret` derive it
// here.
func EnterpriseSecretKey(m *keys.Master) []byte { return m.Derive("enterprise secret", 32) }

// mountEnterprise wires the LastPass-compatible Enterprise API.
func (s *Server) mountEnterprise(mux *http.ServeMux) {
	cfg := s.Config.Enterprise
	zone, _ := time.LoadLocation(cfg.TimeZone) // validated by config
	h := &enterprise.Handler{Store: s.Store, Sessions: s.Sessions, Hasher: s.Hasher, Logger: s.Logger, Now: s.now,
		CID: cfg.CID, SecretKey: EnterpriseSecretKey(s.Master), ResetMFA: mfa.ResetUser, Zone: zone,
		Limit: float64(cfg.RateLimit), MaxBody: cfg.MaxBodyBytes}
	h.Mount(mux)
}

// ownBodyLimit reports whether a request's body limit is its handler's
// own rather than max_body_bytes: the Enterprise API's batches are larger
// than any form.
func ownBodyLimit(r *http.Request) bool { return enterprise.Owns(r) }

package server

import (
	"net/http"

	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/scim"
)

// SCIMTokenKey is the key SCIM bearer tokens are hashed with. The server
// and `gateway api scim-token` both derive it here, so that a token the CLI
// issues is one the server accepts.
func SCIMTokenKey(m *keys.Master) []byte { return m.Derive("scim token", 32) }

// mountSCIM wires SCIM 2.0 on /scim/v2, and on LastPass's /scimapi/{cid}
// when enterprise.cid is set.
func (s *Server) mountSCIM(mux *http.ServeMux) {
	h := &scim.Handler{Store: s.Store, Sessions: s.Sessions, Hasher: s.Hasher, Logger: s.Logger, Now: s.now,
		BaseURL: s.Config.BaseURL, CID: s.Config.Enterprise.CID, TokenKey: SCIMTokenKey(s.Master),
		MaxBody: s.Config.MaxBodyBytes}
	h.Mount(mux)
}

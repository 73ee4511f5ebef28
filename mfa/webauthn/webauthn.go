// Package webauthn is the "Security key or passkey" second factor. (Skeleton: being built.)
package webauthn

import (
	"net/http"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/policy"
)

// Options configures the relying party.
type Options struct {
	RPID   string // config mfa.webauthn.rp_id, or base_url's host
	RPName string
	Origin string // base_url's origin
}

// Factor is the webauthn factor.
type Factor struct {
	core *mfa.Handler
	opts Options
}

// New builds the factor on the MFA core.
func New(core *mfa.Handler, o Options) *Factor { return &Factor{core: core, opts: o} }

// Name implements mfa.Factor.
func (f *Factor) Name() string { return policy.WebAuthn }

// Title implements mfa.Factor.
func (f *Factor) Title() string { return "Security key or passkey" }

// Mount implements mfa.Factor.
func (f *Factor) Mount(mux *http.ServeMux, csrf func(http.Handler) http.Handler) {}

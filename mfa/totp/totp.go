// Package totp is the "Authenticator app" second factor. (Skeleton: being built.)
package totp

import (
	"net/http"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/policy"
)

// Options configures the factor.
type Options struct {
	// Issuer is the issuer in the otpauth:// URI (config mfa.totp.issuer).
	Issuer string
}

// Factor is the totp factor.
type Factor struct {
	core *mfa.Handler
	opts Options
}

// New builds the factor on the MFA core.
func New(core *mfa.Handler, o Options) *Factor { return &Factor{core: core, opts: o} }

// Name implements mfa.Factor.
func (f *Factor) Name() string { return policy.TOTP }

// Title implements mfa.Factor.
func (f *Factor) Title() string { return "Authenticator app" }

// Mount implements mfa.Factor.
func (f *Factor) Mount(mux *http.ServeMux, csrf func(http.Handler) http.Handler) {}

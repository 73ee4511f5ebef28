// Package recovery is the "Recovery code" second factor. (Skeleton: being built.)
package recovery

import (
	"net/http"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/policy"
)

// Factor is the recovery factor.
type Factor struct {
	core *mfa.Handler
}

// New builds the factor on the MFA core.
func New(core *mfa.Handler) *Factor { return &Factor{core: core} }

// Name implements mfa.Factor.
func (f *Factor) Name() string { return policy.Recovery }

// Title implements mfa.Factor.
func (f *Factor) Title() string { return "Recovery code" }

// Mount implements mfa.Factor.
func (f *Factor) Mount(mux *http.ServeMux, csrf func(http.Handler) http.Handler) {}

// Package push is the "Push notification" second factor. (Skeleton: being built.)
package push

import (
	"net/http"
	"time"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/policy"
)

// Options configures push challenges.
type Options struct {
	BaseURL       string
	ChallengeTTL  time.Duration
	MaxPending    int
	WebhookURL    string
	WebhookSecret string
}

// Factor is the push factor.
type Factor struct {
	core *mfa.Handler
	opts Options
}

// New builds the factor on the MFA core.
func New(core *mfa.Handler, o Options) *Factor { return &Factor{core: core, opts: o} }

// Name implements mfa.Factor.
func (f *Factor) Name() string { return policy.Push }

// Title implements mfa.Factor.
func (f *Factor) Title() string { return "Push notification" }

// Mount implements mfa.Factor.
func (f *Factor) Mount(mux *http.ServeMux, csrf func(http.Handler) http.Handler) {}

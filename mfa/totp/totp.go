package totp

import (
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/policy"
)

// DefaultName is the name a new enrolment gets when the user gives none.
const DefaultName = "Authenticator app"

// Options configures the factor.
type Options struct {
	// Issuer is the issuer in the otpauth:// URI (config mfa.totp.issuer);
	// "Portcullis" when empty.
	Issuer string
	// Rand is the source of new secrets; crypto/rand when nil.
	Rand io.Reader
}

// Factor is the totp factor.
type Factor struct {
	core *mfa.Handler
	opts Options
}

// New builds the factor on the MFA core.
func New(core *mfa.Handler, o Options) *Factor {
	// A colon separates issuer and account in the URI's label
	// (Key Uri Format): one inside the issuer would split it wrongly.
	o.Issuer = strings.Join(strings.Fields(strings.ReplaceAll(o.Issuer, ":", " ")), " ")
	if o.Issuer == "" {
		o.Issuer = "Portcullis"
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	return &Factor{core: core, opts: o}
}

// Name implements mfa.Factor.
func (f *Factor) Name() string { return policy.TOTP }

// Title implements mfa.Factor.
func (f *Factor) Title() string { return "Authenticator app" }

// Mount implements mfa.Factor.
func (f *Factor) Mount(mux *http.ServeMux, csrf func(http.Handler) http.Handler) {
	verify, enrol := mfa.VerifyPath(policy.TOTP), mfa.EnrolPath(policy.TOTP)
	mux.Handle("GET "+verify, csrf(http.HandlerFunc(f.verifyPage)))
	mux.Handle("POST "+verify, csrf(http.HandlerFunc(f.verify)))
	mux.Handle("GET "+enrol, csrf(http.HandlerFunc(f.enrolPage)))
	mux.Handle("POST "+enrol, csrf(http.HandlerFunc(f.enrol)))
}

func (f *Factor) logger() *slog.Logger {
	if f.core.Logger != nil {
		return f.core.Logger
	}
	return slog.New(slog.DiscardHandler)
}

var _ mfa.Factor = (*Factor)(nil)

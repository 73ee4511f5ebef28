package webauthn

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	gowebauthn "github.com/go-webauthn/webauthn/webauthn"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/store"
)

// Paths of the passwordless sign-in, outside any step-up (login.html posts
// to them).
const (
	PasskeyBeginPath  = "/mfa/webauthn/passkey/begin"
	PasskeyFinishPath = "/mfa/webauthn/passkey/finish"
)

// BrowserTimeout is how long the browser is told to wait for the user at
// the authenticator; CeremonyTTL leaves room for the round trips around it.
const BrowserTimeout = 2 * time.Minute

// Options configures the relying party.
type Options struct {
	RPID   string // config mfa.webauthn.rp_id, or base_url's host
	RPName string
	Origin string // base_url's origin
	// NoPasskeyLogin leaves out sign-in with a passkey alone
	// (login.password_form: false makes upstream IdPs the only way in);
	// passkeys still serve as a second factor.
	NoPasskeyLogin bool
}

// Factor is the webauthn factor.
type Factor struct {
	core *mfa.Handler
	opts Options
	rp   *gowebauthn.WebAuthn
	// handles encrypts user IDs into user handles (one AES block).
	handles cipher.Block
	err     error
}

// New builds the factor on the MFA core. When the options cannot make a
// relying party (an RP ID that is an IP address, say) the factor still
// exists but cannot be used: Err says why.
func New(core *mfa.Handler, o Options) *Factor {
	f := &Factor{core: core, opts: o}
	f.rp, f.err = gowebauthn.New(&gowebauthn.Config{
		RPID:                  o.RPID,
		RPDisplayName:         o.RPName,
		RPOrigins:             []string{o.Origin},
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts: gowebauthn.TimeoutsConfig{
			Login:        gowebauthn.TimeoutConfig{Timeout: BrowserTimeout, TimeoutUVD: BrowserTimeout},
			Registration: gowebauthn.TimeoutConfig{Timeout: BrowserTimeout, TimeoutUVD: BrowserTimeout},
		},
	})
	if f.err != nil {
		f.err = fmt.Errorf("webauthn: relying party %q at %s: %w", o.RPID, o.Origin, f.err)
		return f
	}
	if core.Master == nil {
		f.err = errors.New("webauthn: no master key for user handles")
		return f
	}
	f.handles, f.err = aes.NewCipher(core.Master.Derive("webauthn user handle", 32))
	return f
}

// Err reports why the factor cannot work with its options; nil when it can.
func (f *Factor) Err() error { return f.err }

// Name implements mfa.Factor.
func (f *Factor) Name() string { return policy.WebAuthn }

// Title implements mfa.Factor.
func (f *Factor) Title() string { return "Security key or passkey" }

// Usable implements mfa.Usable: no enrolment counts while the factor cannot
// work, so users are not sent to a page that cannot verify them.
func (f *Factor) Usable(store.Enrolment) bool { return f.err == nil }

// Mount implements mfa.Factor.
func (f *Factor) Mount(mux *http.ServeMux, csrf func(http.Handler) http.Handler) {
	if csrf == nil {
		csrf = func(next http.Handler) http.Handler { return next }
	}
	verify, enrol := mfa.VerifyPath(f.Name()), mfa.EnrolPath(f.Name())
	for pattern, h := range map[string]http.HandlerFunc{
		"GET " + verify:              f.verifyPage,
		"POST " + verify + "/begin":  f.verifyBegin,
		"POST " + verify + "/finish": f.verifyFinish,
		"GET " + enrol:               f.enrolPage,
		"POST " + enrol + "/begin":   f.enrolBegin,
		"POST " + enrol + "/finish":  f.enrolFinish,
		"POST " + PasskeyBeginPath:   f.passkeyBegin,
		"POST " + PasskeyFinishPath:  f.passkeyFinish,
	} {
		if f.opts.NoPasskeyLogin && strings.HasPrefix(pattern, "POST /mfa/webauthn/passkey/") {
			continue
		}
		mux.Handle(pattern, csrf(f.available(h)))
	}
}

// available answers 503 on every route while the factor cannot work.
func (f *Factor) available(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.err == nil {
			next(w, r)
			return
		}
		f.logger().WarnContext(r.Context(), "webauthn unavailable", "err", f.err)
		if r.Method == http.MethodGet {
			f.core.Render.Error(w, r, http.StatusServiceUnavailable, "Security keys unavailable",
				"Security keys and passkeys cannot be used at this address. Ask your administrator.")
			return
		}
		writeJSON(w, http.StatusServiceUnavailable, reply{Error: "Security keys and passkeys cannot be used at this address."})
	})
}

package recovery

import (
	"crypto/rand"
	"io"
	"net/http"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/store"
)

// Name is the name of a recovery enrolment.
const Name = "Recovery codes"

// Factor is the recovery factor.
type Factor struct {
	core *mfa.Handler
	// hashKey keys the code hashes (HMAC-SHA256), derived from the master
	// secret.
	hashKey []byte
	rand    io.Reader // where codes come from
}

// New builds the factor on the MFA core, whose Master must be set.
func New(core *mfa.Handler) *Factor {
	return &Factor{core: core, hashKey: core.Master.Derive(hashLabel, 32), rand: rand.Reader}
}

// Name implements mfa.Factor.
func (f *Factor) Name() string { return policy.Recovery }

// Title implements mfa.Factor.
func (f *Factor) Title() string { return "Recovery code" }

// Mount implements mfa.Factor.
func (f *Factor) Mount(mux *http.ServeMux, csrf func(http.Handler) http.Handler) {
	verify, enrol := mfa.VerifyPath(policy.Recovery), mfa.EnrolPath(policy.Recovery)
	mux.Handle("GET "+verify, csrf(http.HandlerFunc(f.verifyPage)))
	mux.Handle("POST "+verify, csrf(http.HandlerFunc(f.verify)))
	mux.Handle("GET "+enrol, csrf(http.HandlerFunc(f.enrolPage)))
	mux.Handle("POST "+enrol, csrf(http.HandlerFunc(f.enrol)))
}

// Usable implements mfa.Usable: a set counts while an unused code remains.
func (f *Factor) Usable(e store.Enrolment) bool {
	s, err := decodeSet(e.Data)
	return err == nil && s.unused() > 0
}

var (
	_ mfa.Factor = (*Factor)(nil)
	_ mfa.Usable = (*Factor)(nil)
)

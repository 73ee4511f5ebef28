package push

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/store"
)

// Defaults for Options.
const (
	DefaultChallengeTTL   = 60 * time.Second
	DefaultMaxPending     = 3
	DefaultClockWindow    = 60 * time.Second
	DefaultPollInterval   = 250 * time.Millisecond
	DefaultWebhookTimeout = 5 * time.Second
	// LinkTTL is how long an enrolment link may be used.
	LinkTTL = 10 * time.Minute
)

// Options configures push challenges.
type Options struct {
	// BaseURL is the gateway's public URL, for enrolment links.
	BaseURL string
	// ChallengeTTL is how long a push may be answered (default 60 s).
	ChallengeTTL time.Duration
	// MaxPending bounds a user's unanswered pushes across nodes (default 3).
	MaxPending int
	// WebhookURL, when set, receives every new challenge (see webhook.go);
	// WebhookSecret signs it.
	WebhookURL    string
	WebhookSecret string
	// WebhookTimeout bounds one webhook call (default 5 s).
	WebhookTimeout time.Duration
	// ClockWindow is how far a device's timestamp may be from ours
	// (default 60 s).
	ClockWindow time.Duration
	// PollInterval is how often a held challenge poll reads the session
	// backend for pushes made on other nodes (default 250 ms).
	PollInterval time.Duration
	// HTTPClient sends webhooks (default: one with WebhookTimeout that does
	// not follow redirects).
	HTTPClient *http.Client
}

func (o Options) withDefaults() Options {
	if o.ChallengeTTL <= 0 {
		o.ChallengeTTL = DefaultChallengeTTL
	}
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.ClockWindow <= 0 {
		o.ClockWindow = DefaultClockWindow
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.WebhookTimeout <= 0 {
		o.WebhookTimeout = DefaultWebhookTimeout
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: o.WebhookTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return o
}

// Factor is the push factor: the browser pages under /mfa/push and the
// device API under /push/v1. Build it with New.
type Factor struct {
	core *mfa.Handler
	opts Options

	wake    *waiters
	drainMu sync.Mutex
	drained chan struct{} // closed by Drain
}

// New builds the factor on the MFA core.
func New(core *mfa.Handler, o Options) *Factor {
	return &Factor{core: core, opts: o.withDefaults(), wake: newWaiters(), drained: make(chan struct{})}
}

// Name implements mfa.Factor.
func (f *Factor) Name() string { return policy.Push }

// Title implements mfa.Factor.
func (f *Factor) Title() string { return "Push notification" }

// Mount implements mfa.Factor: the browser pages (wrapped in csrf) and the
// device API (authenticated by signatures, so no cookies and no CSRF).
func (f *Factor) Mount(mux *http.ServeMux, csrf func(http.Handler) http.Handler) {
	verify, enrol := mfa.VerifyPath(policy.Push), mfa.EnrolPath(policy.Push)
	mux.Handle("GET "+verify, csrf(http.HandlerFunc(f.verifyPage)))
	mux.Handle("POST "+verify, csrf(http.HandlerFunc(f.complete)))
	mux.Handle("GET "+verify+"/status", csrf(http.HandlerFunc(f.verifyStatus)))
	mux.Handle("GET "+enrol, csrf(http.HandlerFunc(f.enrolPage)))
	mux.Handle("POST "+enrol, csrf(http.HandlerFunc(f.enrolConfirm)))
	mux.Handle("GET "+enrol+"/status", csrf(http.HandlerFunc(f.enrolStatus)))
	mux.HandleFunc("GET "+EnrolPath, f.enrolInfo)
	mux.HandleFunc("POST "+EnrolPath, f.deviceEnrol)
	mux.HandleFunc("GET "+ChallengesPath, f.deliver)
	mux.HandleFunc("POST "+ChallengesPath+"/{id}", f.answer)
}

// Drain makes held challenge polls answer at once (with what they have) and
// new ones not wait, so a shutting-down node is not kept up to MaxWait by
// its devices. Call it when shutdown begins; it is safe to call twice.
func (f *Factor) Drain() {
	f.drainMu.Lock()
	defer f.drainMu.Unlock()
	select {
	case <-f.drained:
	default:
		close(f.drained)
	}
}

// devices returns the user's confirmed push enrolments.
func (f *Factor) devices(ctx context.Context, userID int64) ([]store.Enrolment, error) {
	all, _, err := f.core.Enrolled(ctx, userID)
	if err != nil {
		return nil, err
	}
	var out []store.Enrolment
	for _, e := range all {
		if e.Factor == policy.Push {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *Factor) logger() *slog.Logger {
	if f.core.Logger != nil {
		return f.core.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// binding is what ties a challenge or link to one browser session (or one
// continuation): a hash, so the session backend never holds the session ID
// in the clear.
func binding(label, secret string) string {
	sum := sha256.Sum256([]byte("portcullis push " + label + "\x00" + secret))
	return hex.EncodeToString(sum[:16])
}

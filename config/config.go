// Package config owns the gateway's configuration: the YAML schema, the
// embedded defaults, the GATEWAY_* environment overrides and the validation
// that reports every problem at once.
//
// Every key can be set in the environment as GATEWAY_<PATH>, the path's
// segments upper-cased and joined by "_": sessions.redis_url is
// GATEWAY_SESSIONS_REDIS_URL. The environment wins over the file. List values
// (trusted_proxies) are comma-separated in the environment; structured values
// (forward_auth.rules) are given as YAML or JSON text.
//
// Decisions:
//   - Unknown keys in the file are errors (a typo must not silently fall back
//     to a default). Unknown GATEWAY_* variables are reported as warnings,
//     since the environment is shared with other programs; GATEWAY_TEST_* is
//     reserved for the test suite and ignored.
//   - Durations are Go duration strings ("90s", "12h").
//   - Argon2id defaults follow the OWASP Password Storage Cheat Sheet's first
//     recommendation: m=19 MiB, t=2, p=1.
//   - With no database configured, SQLite at <data_dir>/portcullis.db.
//
// config is layer 0: it imports only the standard library and the YAML parser.
package config

import (
	"time"
)

// Config is the whole configuration.
type Config struct {
	Listen          string      `yaml:"listen"`
	BaseURL         string      `yaml:"base_url"`
	DataDir         string      `yaml:"data_dir"`
	Database        string      `yaml:"database"`
	MasterSecret    string      `yaml:"master_secret"`
	TemplatesDir    string      `yaml:"templates_dir"`
	TrustedProxies  []string    `yaml:"trusted_proxies"`
	ShutdownTimeout Duration    `yaml:"shutdown_timeout"`
	MaxBodyBytes    int64       `yaml:"max_body_bytes"`
	Log             Log         `yaml:"log"`
	Sessions        Sessions    `yaml:"sessions"`
	Passwords       Passwords   `yaml:"passwords"`
	Login           Login       `yaml:"login"`
	Admin           Admin       `yaml:"admin"`
	Enterprise      Enterprise  `yaml:"enterprise"`
	SAML            SAML        `yaml:"saml"`
	ForwardAuth     ForwardAuth `yaml:"forward_auth"`
	MFA             MFA         `yaml:"mfa"`

	// Warnings lists problems that do not stop the gateway (unknown
	// GATEWAY_* variables). Not a configuration key.
	Warnings []string `yaml:"-"`
}

// Log configures structured logging.
type Log struct {
	Level  string `yaml:"level"`  // debug|info|warn|error
	Format string `yaml:"format"` // text|json
}

// Sessions configures the session backend and cookie.
type Sessions struct {
	Store           string   `yaml:"store"` // memory|redis
	RedisURL        string   `yaml:"redis_url"`
	IdleTimeout     Duration `yaml:"idle_timeout"`
	AbsoluteTimeout Duration `yaml:"absolute_timeout"`
	CookieName      string   `yaml:"cookie_name"`
	CookieDomain    string   `yaml:"cookie_domain"`
}

// Passwords configures password hashing.
type Passwords struct {
	Argon2 Argon2 `yaml:"argon2"`
	// MinLength is the shortest password accepted when one is set.
	MinLength int `yaml:"min_length"`
}

// Argon2 holds argon2id parameters.
type Argon2 struct {
	MemoryKiB   uint32 `yaml:"memory_kib"`
	Iterations  uint32 `yaml:"iterations"`
	Parallelism uint8  `yaml:"parallelism"`
}

// Login configures throttling of failed logins. Failures are counted in the
// session backend, per user and per client IP, in fixed windows.
type Login struct {
	MaxFailuresPerUser int      `yaml:"max_failures_per_user"`
	MaxFailuresPerIP   int      `yaml:"max_failures_per_ip"`
	Window             Duration `yaml:"window"`
	// PasswordForm shows the email and password form (and passkey
	// sign-in) on /login. False leaves the upstream IdPs' buttons as the
	// only way in, and POST /login refuses every password.
	PasswordForm bool `yaml:"password_form"`
}

// Admin configures the account created on first start.
type Admin struct {
	Email string `yaml:"email"`
}

// Enterprise configures the LastPass-compatible Enterprise API.
type Enterprise struct {
	// CID is the company ID clients send; empty means the one
	// `gateway api enterprise-secret` chose.
	CID string `yaml:"cid"`
	// TimeZone is the zone of the API's times, reporting's included
	// (LastPass reports in US/Eastern).
	TimeZone string `yaml:"time_zone"`
	// RateLimit is how many requests a second one client IP may make on
	// one node before 429.
	RateLimit int `yaml:"rate_limit"`
	// MaxBodyBytes bounds a request body (batchadd of 10,000 users is
	// about 1.5 MB); it replaces max_body_bytes for the API's paths.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
}

// SAML configures the SAML identity provider.
type SAML struct {
	// EntityID names the IdP; empty means <base_url>/saml/metadata.
	EntityID string `yaml:"entity_id"`
	// SPEntityID names our SP towards upstream IdPs; empty means
	// <base_url>/saml/sp/metadata.
	SPEntityID string `yaml:"sp_entity_id"`
	// SignMetadata publishes metadata with an enveloped signature.
	SignMetadata bool `yaml:"sign_metadata"`
	// WantAuthnRequestsSigned refuses unsigned AuthnRequests from every app
	// (apps whose metadata says AuthnRequestsSigned must sign regardless).
	WantAuthnRequestsSigned bool `yaml:"want_authn_requests_signed"`
	// AssertionLifetime is how long an issued assertion is valid.
	AssertionLifetime Duration `yaml:"assertion_lifetime"`
	// ClockSkew is how far a request's IssueInstant may be from our clock.
	ClockSkew Duration `yaml:"clock_skew"`
	// MetadataRefresh is how often app metadata given by URL is fetched again.
	MetadataRefresh Duration `yaml:"metadata_refresh"`
	// KeyRollover is how long a new signing certificate is published before
	// it signs, and how long the old one stays published after.
	KeyRollover Duration `yaml:"key_rollover"`
}

// ForwardAuth configures the authentication gate in front of apps.
type ForwardAuth struct {
	Rules []Rule `yaml:"rules"`
	// DefaultPolicy answers a request no rule matches.
	DefaultPolicy string `yaml:"default_policy"` // bypass|one_factor|two_factor|deny
	// Headers names the identity headers sent to the app.
	Headers IdentityHeaders `yaml:"headers"`
	// Upstreams are the apps the built-in reverse proxy serves: a request
	// for Host is authenticated, then proxied to URL.
	Upstreams []Upstream `yaml:"upstreams"`
	// Cache lets each node answer one_factor rules for a session it saw a
	// moment ago from memory, kept coherent across nodes through Redis
	// (sessions.store redis only; forwardauth.Memo).
	Cache bool `yaml:"cache"`
}

// IdentityHeaders names the headers that carry who the user is.
type IdentityHeaders struct {
	User   string `yaml:"user"`
	Email  string `yaml:"email"`
	Name   string `yaml:"name"`
	Groups string `yaml:"groups"`
}

// Upstream is one app behind the built-in reverse proxy.
type Upstream struct {
	Host string `yaml:"host"`
	URL  string `yaml:"url"`
}

// Rule is one forward-auth access rule; the first match wins.
type Rule struct {
	Host      string   `yaml:"host"`
	Path      string   `yaml:"path"`
	Methods   []string `yaml:"methods"`
	Policy    string   `yaml:"policy"` // bypass|one_factor|two_factor|deny
	Groups    []string `yaml:"groups"`
	MaxMFAAge Duration `yaml:"max_mfa_age"`
}

// MFA configures the step-up pipeline and its factors.
type MFA struct {
	// EnrolOnFirstUse sends a user who has no acceptable factor, where MFA
	// is required, to enrol one (after a fresh password); false refuses
	// with a page that says to ask an administrator.
	EnrolOnFirstUse bool `yaml:"enrol_on_first_use"`
	// MaxFailuresPerUser and MaxFailuresPerIP bound failed second-factor
	// attempts in Window (NIST SP 800-63B §5.2.2: at most 100).
	MaxFailuresPerUser int      `yaml:"max_failures_per_user"`
	MaxFailuresPerIP   int      `yaml:"max_failures_per_ip"`
	Window             Duration `yaml:"window"`
	TOTP               TOTP     `yaml:"totp"`
	WebAuthn           WebAuthn `yaml:"webauthn"`
	Push               Push     `yaml:"push"`
}

// TOTP configures authenticator-app codes.
type TOTP struct {
	// Issuer is the account label's issuer in authenticator apps.
	Issuer string `yaml:"issuer"`
}

// WebAuthn configures security keys and passkeys.
type WebAuthn struct {
	// RPID is the relying party ID; empty means base_url's host.
	RPID string `yaml:"rp_id"`
	// RPName is the name authenticators show.
	RPName string `yaml:"rp_name"`
}

// Push configures push approval with number matching.
type Push struct {
	// ChallengeTTL is how long a push may be answered.
	ChallengeTTL Duration `yaml:"challenge_ttl"`
	// MaxPending bounds unanswered pushes per user (anti-fatigue).
	MaxPending int `yaml:"max_pending"`
	// WebhookURL, when set, receives each new challenge (JSON, POST) to
	// relay to a mobile push service; WebhookSecret signs it.
	WebhookURL    string `yaml:"webhook_url"`
	WebhookSecret string `yaml:"webhook_secret"`
}

// Defaults returns the embedded defaults: one node, no services.
func Defaults() Config {
	return Config{
		Listen:          ":8080",
		BaseURL:         "http://localhost:8080",
		DataDir:         "./data",
		ShutdownTimeout: Duration(15 * time.Second),
		MaxBodyBytes:    1 << 20,
		Enterprise:      Enterprise{TimeZone: "America/New_York", RateLimit: 20, MaxBodyBytes: 32 << 20},
		Log:             Log{Level: "info", Format: "text"},
		Sessions: Sessions{
			Store:           "memory",
			IdleTimeout:     Duration(time.Hour),
			AbsoluteTimeout: Duration(12 * time.Hour),
			CookieName:      "portcullis_session",
		},
		Passwords: Passwords{
			Argon2:    Argon2{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1},
			MinLength: 12,
		},
		Login: Login{MaxFailuresPerUser: 5, MaxFailuresPerIP: 50, Window: Duration(15 * time.Minute), PasswordForm: true},
		Admin: Admin{Email: "admin@localhost"},
		ForwardAuth: ForwardAuth{DefaultPolicy: "deny", Cache: true, Headers: IdentityHeaders{
			User: "Remote-User", Email: "Remote-Email", Name: "Remote-Name", Groups: "Remote-Groups"}},
		MFA: MFA{
			EnrolOnFirstUse: true, MaxFailuresPerUser: 10, MaxFailuresPerIP: 50, Window: Duration(15 * time.Minute),
			TOTP:     TOTP{Issuer: "Portcullis"},
			WebAuthn: WebAuthn{RPName: "Portcullis"},
			Push:     Push{ChallengeTTL: Duration(60 * time.Second), MaxPending: 3},
		},
		SAML: SAML{
			AssertionLifetime: Duration(5 * time.Minute),
			ClockSkew:         Duration(3 * time.Minute),
			MetadataRefresh:   Duration(time.Hour),
			KeyRollover:       Duration(48 * time.Hour),
		},
	}
}

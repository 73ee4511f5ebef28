package config

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zone names work on machines without a zoneinfo database
)

// check is one validation rule: it returns a problem, or "" when the value
// is fine.
type check struct {
	key string
	fn  func(c *Config) string
}

// checks is the table of rules Validate runs; each names the key it checks.
var checks = []check{
	{"listen", func(c *Config) string { return checkListen(c.Listen) }},
	{"base_url", func(c *Config) string { return checkBaseURL(c.BaseURL) }},
	{"data_dir", func(c *Config) string { return nonEmpty(c.DataDir) }},
	{"database", func(c *Config) string { return checkDatabase(c.Database) }},
	{"master_secret", func(c *Config) string { return checkSecret(c.MasterSecret) }},
	{"trusted_proxies", func(c *Config) string { return checkProxies(c.TrustedProxies) }},
	{"shutdown_timeout", func(c *Config) string { return positive(c.ShutdownTimeout) }},
	{"max_body_bytes", func(c *Config) string { return between(c.MaxBodyBytes, 1024, 64<<20) }},
	{"log.level", func(c *Config) string { return oneOf(c.Log.Level, "debug", "info", "warn", "error") }},
	{"log.format", func(c *Config) string { return oneOf(c.Log.Format, "text", "json") }},
	{"sessions.store", func(c *Config) string { return oneOf(c.Sessions.Store, "memory", "redis") }},
	{"sessions.redis_url", func(c *Config) string { return checkRedisURL(c.Sessions) }},
	{"sessions.idle_timeout", func(c *Config) string { return positive(c.Sessions.IdleTimeout) }},
	{"sessions.absolute_timeout", func(c *Config) string { return checkAbsolute(c.Sessions) }},
	{"sessions.cookie_name", func(c *Config) string { return checkCookieName(c.Sessions.CookieName) }},
	{"passwords.argon2.memory_kib", func(c *Config) string {
		return between(int64(c.Passwords.Argon2.MemoryKiB), 8*1024, 4<<20)
	}},
	{"passwords.argon2.iterations", func(c *Config) string { return between(int64(c.Passwords.Argon2.Iterations), 1, 100) }},
	{"passwords.argon2.parallelism", func(c *Config) string { return between(int64(c.Passwords.Argon2.Parallelism), 1, 64) }},
	{"passwords.min_length", func(c *Config) string { return between(int64(c.Passwords.MinLength), 8, 1024) }},
	{"login.max_failures_per_user", func(c *Config) string { return between(int64(c.Login.MaxFailuresPerUser), 1, 1e6) }},
	{"login.max_failures_per_ip", func(c *Config) string { return between(int64(c.Login.MaxFailuresPerIP), 1, 1e6) }},
	{"login.window", func(c *Config) string { return positive(c.Login.Window) }},
	{"admin.email", func(c *Config) string { return checkEmail(c.Admin.Email) }},
	{"enterprise.cid", func(c *Config) string { return checkCID(c.Enterprise.CID) }},
	{"enterprise.time_zone", func(c *Config) string { return checkZone(c.Enterprise.TimeZone) }},
	{"enterprise.rate_limit", func(c *Config) string { return between(int64(c.Enterprise.RateLimit), 1, 1e6) }},
	{"enterprise.max_body_bytes", func(c *Config) string { return between(c.Enterprise.MaxBodyBytes, 1024, 1<<30) }},
	{"saml.entity_id", func(c *Config) string { return checkEntityID(c.SAML.EntityID) }},
	{"saml.sp_entity_id", func(c *Config) string { return checkEntityID(c.SAML.SPEntityID) }},
	{"saml.assertion_lifetime", func(c *Config) string { return positive(c.SAML.AssertionLifetime) }},
	{"saml.clock_skew", func(c *Config) string { return positive(c.SAML.ClockSkew) }},
	{"saml.metadata_refresh", func(c *Config) string { return atLeast(c.SAML.MetadataRefresh, time.Minute) }},
	{"saml.key_rollover", func(c *Config) string { return positive(c.SAML.KeyRollover) }},
	{"forward_auth.rules", func(c *Config) string { return checkRules(c.ForwardAuth.Rules) }},
	{"forward_auth.default_policy", func(c *Config) string {
		return oneOf(c.ForwardAuth.DefaultPolicy, "bypass", "one_factor", "two_factor", "deny")
	}},
	{"forward_auth.headers", func(c *Config) string { return checkIdentityHeaders(c.ForwardAuth.Headers) }},
	{"forward_auth.upstreams", func(c *Config) string { return checkUpstreams(c.ForwardAuth.Upstreams, c.BaseURL) }},
	{"mfa.max_failures_per_user", func(c *Config) string { return between(int64(c.MFA.MaxFailuresPerUser), 1, 100) }},
	{"mfa.max_failures_per_ip", func(c *Config) string { return between(int64(c.MFA.MaxFailuresPerIP), 1, 1e6) }},
	{"mfa.window", func(c *Config) string { return positive(c.MFA.Window) }},
	{"mfa.totp.issuer", func(c *Config) string { return checkIssuer(c.MFA.TOTP.Issuer) }},
	{"mfa.webauthn.rp_id", func(c *Config) string { return checkRPID(c.MFA.WebAuthn.RPID, c.BaseURL) }},
	{"mfa.webauthn.rp_name", func(c *Config) string { return nonEmpty(c.MFA.WebAuthn.RPName) }},
	{"mfa.push.challenge_ttl", func(c *Config) string { return checkChallengeTTL(c.MFA.Push.ChallengeTTL) }},
	{"mfa.push.max_pending", func(c *Config) string { return between(int64(c.MFA.Push.MaxPending), 1, 20) }},
	{"mfa.push.webhook_url", func(c *Config) string { return checkWebhook(c.MFA.Push) }},
}

// Validate returns every problem with c, each prefixed by its key.
func (c *Config) Validate() []string {
	var problems []string
	for _, ch := range checks {
		if p := ch.fn(c); p != "" {
			problems = append(problems, ch.key+": "+p)
		}
	}
	return problems
}

func nonEmpty(s string) string {
	if strings.TrimSpace(s) == "" {
		return "must be set"
	}
	return ""
}

func positive(d Duration) string {
	if d <= 0 {
		return fmt.Sprintf("must be a positive duration, got %s", d)
	}
	return ""
}

func atLeast(d Duration, min time.Duration) string {
	if d.D() < min {
		return fmt.Sprintf("must be at least %s, got %s", min, d)
	}
	return ""
}

// checkEntityID accepts an absolute URI (SAML Core §8.3.6: at most 1024
// characters).
func checkEntityID(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || len(s) > 1024 {
		return fmt.Sprintf("%q is not an absolute URI of at most 1024 characters", s)
	}
	return ""
}

func between(n, lo, hi int64) string {
	if n < lo || n > hi {
		return fmt.Sprintf("must be from %d to %d, got %d", lo, hi, n)
	}
	return ""
}

func oneOf(s string, allowed ...string) string {
	if !slices.Contains(allowed, s) {
		return fmt.Sprintf("must be one of %s, got %q", strings.Join(allowed, ", "), s)
	}
	return ""
}

func checkListen(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Sprintf("%q is not host:port (e.g. :8080 or 127.0.0.1:8080)", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("port %q is not a number from 0 to 65535", port)
	}
	if host != "" && strings.ContainsAny(host, " /") {
		return fmt.Sprintf("host %q is not a host name or address", host)
	}
	return ""
}

func checkBaseURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("%q is not an absolute http(s) URL", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "must not have a query or fragment"
	}
	return ""
}

// DatabaseKind returns "sqlite" or "postgres" for a database setting, or ""
// when it is neither.
func DatabaseKind(dsn string) string {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return "postgres"
	case strings.Contains(dsn, "://") && !strings.HasPrefix(dsn, "sqlite://"):
		return ""
	default:
		return "sqlite"
	}
}

func checkDatabase(s string) string {
	if s != "" && DatabaseKind(s) == "" {
		return "must be a SQLite file path, sqlite://PATH, or a postgres:// URL"
	}
	if DatabaseKind(s) == "postgres" {
		if u, err := url.Parse(s); err != nil || u.Host == "" {
			return "the postgres URL has no host"
		}
	}
	return ""
}

func checkSecret(s string) string {
	if s != "" && len(s) < 32 {
		return "must be at least 32 characters (or unset, to generate one in data_dir)"
	}
	return ""
}

func checkProxies(list []string) string {
	var bad []string
	for _, p := range list {
		if _, err := netip.ParsePrefix(p); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(p); err != nil {
			bad = append(bad, strconv.Quote(p))
		}
	}
	if len(bad) > 0 {
		return "not an IP address or CIDR: " + strings.Join(bad, ", ")
	}
	return ""
}

func checkRedisURL(s Sessions) string {
	if s.Store != "redis" {
		return ""
	}
	if s.RedisURL == "" {
		return "must be set when sessions.store is redis"
	}
	u, err := url.Parse(s.RedisURL)
	if err != nil {
		return "is not a URL"
	}
	switch u.Scheme {
	case "redis", "rediss", "redis-sentinel", "rediss-sentinel", "redis-cluster", "rediss-cluster", "unix":
		return ""
	}
	return fmt.Sprintf("scheme %q is not one of redis, rediss, redis-sentinel, redis-cluster, unix", u.Scheme)
}

func checkAbsolute(s Sessions) string {
	if p := positive(s.AbsoluteTimeout); p != "" {
		return p
	}
	if s.AbsoluteTimeout < s.IdleTimeout {
		return fmt.Sprintf("must not be shorter than sessions.idle_timeout (%s)", s.IdleTimeout)
	}
	return ""
}

func checkCookieName(s string) string {
	if s == "" || strings.ContainsAny(s, " ;,=\t\r\n\"") {
		return fmt.Sprintf("%q is not a valid cookie name", s)
	}
	return ""
}

func checkEmail(s string) string {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(s, " \t\r\n") {
		return fmt.Sprintf("%q is not an email address", s)
	}
	return ""
}

func checkZone(s string) string {
	if _, err := time.LoadLocation(s); err != nil || s == "" {
		return fmt.Sprintf("%q is not a time zone name such as America/New_York or UTC", s)
	}
	return ""
}

func checkCID(s string) string {
	if s == "" {
		return ""
	}
	if n, err := strconv.ParseUint(s, 10, 63); err != nil || n == 0 {
		return fmt.Sprintf("%q is not a positive whole number", s)
	}
	return ""
}

func checkRules(rules []Rule) string {
	var bad []string
	for i, r := range rules {
		if p := oneOf(r.Policy, "bypass", "one_factor", "two_factor", "deny"); p != "" {
			bad = append(bad, fmt.Sprintf("[%d].policy %s", i, p))
		}
		if r.Host == "" && r.Path == "" {
			bad = append(bad, fmt.Sprintf("[%d] needs a host or a path", i))
		}
		if r.Host != "" && !validHostPattern(r.Host) {
			bad = append(bad, fmt.Sprintf("[%d].host %q is not a host name or *.domain", i, r.Host))
		}
		if r.Path != "" && (!strings.HasPrefix(r.Path, "/") || strings.ContainsAny(r.Path, "?# \t")) {
			bad = append(bad, fmt.Sprintf("[%d].path %q must start with / and may use * (no query)", i, r.Path))
		}
		for _, m := range r.Methods {
			if !slices.Contains(httpMethods, m) {
				bad = append(bad, fmt.Sprintf("[%d].methods: %q is not one of %s", i, m, strings.Join(httpMethods, ", ")))
			}
		}
		if r.MaxMFAAge < 0 || (r.MaxMFAAge > 0 && r.MaxMFAAge.D() < time.Second) {
			bad = append(bad, fmt.Sprintf("[%d].max_mfa_age must be at least 1s", i))
		}
		if r.MaxMFAAge > 0 && r.Policy != "two_factor" {
			bad = append(bad, fmt.Sprintf("[%d].max_mfa_age needs policy two_factor", i))
		}
	}
	return strings.Join(bad, "; ")
}

var httpMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"}

// validHostPattern accepts a host name ("app.example.com") or a wildcard
// for every name below a domain ("*.example.com").
func validHostPattern(h string) bool {
	h = strings.TrimPrefix(h, "*.")
	if h == "" || len(h) > 253 || strings.HasPrefix(h, ".") || strings.HasSuffix(h, ".") || strings.Contains(h, "..") {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// checkIssuer refuses an empty issuer and a colon, which would split the
// otpauth:// label (Google Authenticator key URI format).
func checkIssuer(s string) string {
	if p := nonEmpty(s); p != "" {
		return p
	}
	if strings.Contains(s, ":") {
		return fmt.Sprintf("%q must not contain a colon", s)
	}
	return ""
}

// checkRPID accepts an empty RP ID (base_url's host) or a domain that is
// base_url's host or a parent of it (WebAuthn §5.1.4.1 "registrable domain
// suffix"): the browser refuses any other.
func checkRPID(rpID, baseURL string) string {
	if rpID == "" {
		return ""
	}
	u, err := url.Parse(baseURL)
	if err != nil {
		return "" // base_url reports its own problem
	}
	host := strings.ToLower(u.Hostname())
	rpID = strings.ToLower(rpID)
	if net.ParseIP(rpID) != nil || strings.ContainsAny(rpID, ":/") {
		return fmt.Sprintf("%q must be a domain name, not an address or URL", rpID)
	}
	if host != rpID && !strings.HasSuffix(host, "."+rpID) {
		return fmt.Sprintf("%q must be base_url's host %q or a parent domain of it", rpID, host)
	}
	return ""
}

func checkChallengeTTL(d Duration) string {
	if d < Duration(10*time.Second) || d > Duration(10*time.Minute) {
		return fmt.Sprintf("must be between 10s and 10m, got %s", d)
	}
	return ""
}

// checkWebhook needs an absolute http(s) URL and, with one, a secret of at
// least 16 bytes to sign the relayed challenges.
func checkWebhook(p Push) string {
	if p.WebhookURL == "" {
		return ""
	}
	u, err := url.Parse(p.WebhookURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("%q is not an absolute http(s) URL", p.WebhookURL)
	}
	if len(p.WebhookSecret) < 16 {
		return "needs mfa.push.webhook_secret of at least 16 characters to sign the requests"
	}
	return ""
}

// checkIdentityHeaders needs four distinct, valid header names.
func checkIdentityHeaders(h IdentityHeaders) string {
	var bad []string
	seen := map[string]bool{}
	for _, f := range []struct{ key, v string }{{"user", h.User}, {"email", h.Email}, {"name", h.Name}, {"groups", h.Groups}} {
		c := http.CanonicalHeaderKey(f.v)
		switch {
		case !validHeaderName(f.v):
			bad = append(bad, fmt.Sprintf("%s %q is not a header name", f.key, f.v))
		case seen[c]:
			bad = append(bad, fmt.Sprintf("%s %q is used twice", f.key, f.v))
		}
		seen[c] = true
	}
	return strings.Join(bad, "; ")
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// checkUpstreams needs, per entry, a host name (not base_url's) given once
// and an absolute http(s) URL.
func checkUpstreams(ups []Upstream, baseURL string) string {
	var bad []string
	seen := map[string]bool{}
	base, _ := url.Parse(baseURL)
	for i, u := range ups {
		h := strings.ToLower(u.Host)
		switch {
		case h == "" || strings.ContainsAny(h, "/*: "):
			bad = append(bad, fmt.Sprintf("[%d].host %q must be a host name", i, u.Host))
		case base != nil && h == strings.ToLower(base.Hostname()):
			bad = append(bad, fmt.Sprintf("[%d].host %q is base_url's host", i, u.Host))
		case seen[h]:
			bad = append(bad, fmt.Sprintf("[%d].host %q is given twice", i, u.Host))
		}
		seen[h] = true
		if t, err := url.Parse(u.URL); err != nil || (t.Scheme != "http" && t.Scheme != "https") || t.Host == "" {
			bad = append(bad, fmt.Sprintf("[%d].url %q is not an absolute http(s) URL", i, u.URL))
		}
	}
	return strings.Join(bad, "; ")
}

package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsAreValid(t *testing.T) {
	cfg, err := Load("", nil)
	if err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if cfg.Listen != ":8080" || cfg.BaseURL != "http://localhost:8080" || cfg.DataDir != "./data" ||
		cfg.Sessions.Store != "memory" || cfg.Database != "" {
		t.Errorf("defaults differ from DESIGN.md §4: %+v", cfg)
	}
	if a := cfg.Passwords.Argon2; a.MemoryKiB != 19456 || a.Iterations != 2 || a.Parallelism != 1 {
		t.Errorf("argon2 defaults = %+v, want OWASP m=19MiB t=2 p=1", a)
	}
}

func TestFileThenEnv(t *testing.T) {
	path := writeFile(t, `
listen: 127.0.0.1:9000
base_url: https://sso.example.com
sessions:
  store: redis
  redis_url: redis://127.0.0.1:6379/0
  idle_timeout: 30m
trusted_proxies: [10.0.0.0/8]
log: {format: json}
`)
	env := []string{
		"GATEWAY_LISTEN=:9999",
		"GATEWAY_SESSIONS_IDLE_TIMEOUT=45m",
		"GATEWAY_TRUSTED_PROXIES=127.0.0.1, 192.168.0.0/16",
		"GATEWAY_PASSWORDS_ARGON2_ITERATIONS=3",
		"GATEWAY_FORWARD_AUTH_RULES=[{\"host\":\"app.example.com\",\"policy\":\"two_factor\",\"max_mfa_age\":\"1h\"}]",
		"GATEWAY_TEST_REDIS_URL=ignored",
		"HOME=/root",
	}
	cfg, err := Load(path, env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != ":9999" {
		t.Errorf("env did not win over file: listen = %q", cfg.Listen)
	}
	if cfg.BaseURL != "https://sso.example.com" || cfg.Log.Format != "json" {
		t.Errorf("file values lost: %+v", cfg)
	}
	if cfg.Sessions.IdleTimeout.D() != 45*time.Minute {
		t.Errorf("idle_timeout = %s", cfg.Sessions.IdleTimeout)
	}
	if got := strings.Join(cfg.TrustedProxies, "|"); got != "127.0.0.1|192.168.0.0/16" {
		t.Errorf("trusted_proxies = %q", got)
	}
	if cfg.Passwords.Argon2.Iterations != 3 {
		t.Errorf("iterations = %d", cfg.Passwords.Argon2.Iterations)
	}
	if r := cfg.ForwardAuth.Rules; len(r) != 1 || r[0].Policy != "two_factor" || r[0].MaxMFAAge.D() != time.Hour {
		t.Errorf("rules = %+v", r)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings = %v, want none (GATEWAY_TEST_* is reserved)", cfg.Warnings)
	}
}

func TestEveryProblemReportedAtOnce(t *testing.T) {
	path := writeFile(t, `
listen: "8080"
base_url: "ftp://x"
sessions: {store: redis, idle_timeout: 2h, absolute_timeout: 1h}
log: {level: loud}
trusted_proxies: ["10.0.0.0/33", "example.com"]
passwords: {argon2: {memory_kib: 10}}
`)
	_, err := Load(path, []string{"GATEWAY_LOGIN_WINDOW=soon", "GATEWAY_ENTERPRISE_CID=abc"})
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("err = %v, want *Error", err)
	}
	want := []string{"listen:", "base_url:", "sessions.redis_url:", "sessions.absolute_timeout:",
		"log.level:", "trusted_proxies:", "passwords.argon2.memory_kib:", "login.window (GATEWAY_LOGIN_WINDOW):",
		"enterprise.cid:"}
	msg := cerr.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("problems do not name %q:\n%s", w, msg)
		}
	}
	if !strings.Contains(msg, `"example.com"`) {
		t.Errorf("bad proxy entry not quoted in %s", msg)
	}
}

func TestUnknownFileKeyIsAnError(t *testing.T) {
	_, err := Load(writeFile(t, "listn: :8080\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "listn") {
		t.Fatalf("err = %v, want it to name the unknown key", err)
	}
}

func TestMissingFileIsAnError(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("err = %v", err)
	}
}

func TestUnknownEnvIsAWarning(t *testing.T) {
	cfg, err := Load("", []string{"GATEWAY_LISTN=:1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "GATEWAY_LISTN") {
		t.Errorf("warnings = %v", cfg.Warnings)
	}
}

func TestEnvNamesFollowDesign(t *testing.T) {
	names := map[string]string{}
	for _, kv := range Keys() {
		if prev, dup := names[kv[1]]; dup {
			t.Errorf("%s and %s share %s", prev, kv[0], kv[1])
		}
		names[kv[1]] = kv[0]
	}
	for env, key := range map[string]string{
		"GATEWAY_LISTEN": "listen", "GATEWAY_BASE_URL": "base_url", "GATEWAY_DATA_DIR": "data_dir",
		"GATEWAY_DATABASE": "database", "GATEWAY_SESSIONS_STORE": "sessions.store",
		"GATEWAY_SESSIONS_REDIS_URL": "sessions.redis_url", "GATEWAY_ENTERPRISE_CID": "enterprise.cid",
		"GATEWAY_SESSIONS_IDLE_TIMEOUT": "sessions.idle_timeout", "GATEWAY_LOG_LEVEL": "log.level",
		"GATEWAY_FORWARD_AUTH_RULES": "forward_auth.rules", "GATEWAY_TRUSTED_PROXIES": "trusted_proxies",
	} {
		if names[env] != key {
			t.Errorf("%s sets %q, want %q", env, names[env], key)
		}
	}
}

func TestEveryKeySettableFromEnv(t *testing.T) {
	samples := map[string]string{}
	for _, kv := range Keys() {
		samples[kv[1]] = ""
	}
	// An empty value must parse or be rejected with a clear problem, never
	// panic, for every key.
	var env []string
	for name := range samples {
		env = append(env, name+"=")
	}
	_, err := Load("", env)
	if err == nil {
		t.Fatal("empty values everywhere should not validate")
	}
}

func TestDatabaseKind(t *testing.T) {
	for dsn, want := range map[string]string{
		"":                         "sqlite",
		"data/portcullis.db":       "sqlite",
		"sqlite:///var/lib/p.db":   "sqlite",
		"postgres://u@h/db":        "postgres",
		"postgresql://u@h:5432/db": "postgres",
		"mysql://u@h/db":           "",
	} {
		if got := DatabaseKind(dsn); got != want {
			t.Errorf("DatabaseKind(%q) = %q, want %q", dsn, got, want)
		}
	}
}

func TestMFAChecks(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want string // "" valid
	}{
		{nil, ""},
		{[]string{"GATEWAY_BASE_URL=https://login.example.com", "GATEWAY_MFA_WEBAUTHN_RP_ID=example.com"}, ""},
		{[]string{"GATEWAY_BASE_URL=https://login.example.com", "GATEWAY_MFA_WEBAUTHN_RP_ID=login.example.com"}, ""},
		{[]string{"GATEWAY_BASE_URL=https://login.example.com", "GATEWAY_MFA_WEBAUTHN_RP_ID=other.com"}, "mfa.webauthn.rp_id"},
		{[]string{"GATEWAY_BASE_URL=https://login.example.com", "GATEWAY_MFA_WEBAUTHN_RP_ID=ample.com"}, "mfa.webauthn.rp_id"},
		{[]string{"GATEWAY_MFA_WEBAUTHN_RP_ID=127.0.0.1"}, "mfa.webauthn.rp_id"},
		{[]string{"GATEWAY_MFA_WEBAUTHN_RP_ID=https://localhost"}, "mfa.webauthn.rp_id"},
		{[]string{"GATEWAY_MFA_MAX_FAILURES_PER_USER=101"}, "mfa.max_failures_per_user"},
		{[]string{"GATEWAY_MFA_MAX_FAILURES_PER_USER=0"}, "mfa.max_failures_per_user"},
		{[]string{"GATEWAY_MFA_TOTP_ISSUER=a:b"}, "mfa.totp.issuer"},
		{[]string{"GATEWAY_MFA_TOTP_ISSUER= "}, "mfa.totp.issuer"},
		{[]string{"GATEWAY_MFA_PUSH_CHALLENGE_TTL=5s"}, "mfa.push.challenge_ttl"},
		{[]string{"GATEWAY_MFA_PUSH_CHALLENGE_TTL=2h"}, "mfa.push.challenge_ttl"},
		{[]string{"GATEWAY_MFA_PUSH_MAX_PENDING=0"}, "mfa.push.max_pending"},
		{[]string{"GATEWAY_MFA_PUSH_WEBHOOK_URL=ftp://relay"}, "mfa.push.webhook_url"},
		{[]string{"GATEWAY_MFA_PUSH_WEBHOOK_URL=https://relay.example.com/push"}, "webhook_secret"},
		{[]string{"GATEWAY_MFA_PUSH_WEBHOOK_URL=https://relay.example.com/push", "GATEWAY_MFA_PUSH_WEBHOOK_SECRET=0123456789abcdef"}, ""},
		{[]string{"GATEWAY_MFA_ENROL_ON_FIRST_USE=false"}, ""},
	} {
		_, err := Load("", tc.env)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.env, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: error %v, want one naming %s", tc.env, err, tc.want)
		}
	}
	c, err := Load("", []string{"GATEWAY_MFA_ENROL_ON_FIRST_USE=false"})
	if err != nil || c.MFA.EnrolOnFirstUse || c.MFA.Push.ChallengeTTL.D() != 60*time.Second || c.MFA.Push.MaxPending != 3 {
		t.Errorf("mfa config = %+v, %v", c.MFA, err)
	}
}

func TestForwardAuthFromEnv(t *testing.T) {
	c, err := Load("", []string{
		`GATEWAY_FORWARD_AUTH_UPSTREAMS=[{host: wiki.example.com, url: "http://10.0.0.20:3000"}]`,
		`GATEWAY_FORWARD_AUTH_RULES=[{"host": "*.example.com", "policy": "one_factor"}]`,
		"GATEWAY_FORWARD_AUTH_HEADERS_USER=X-User", "GATEWAY_FORWARD_AUTH_DEFAULT_POLICY=bypass",
	})
	if err != nil {
		t.Fatal(err)
	}
	fa := c.ForwardAuth
	if len(fa.Upstreams) != 1 || fa.Upstreams[0].URL != "http://10.0.0.20:3000" || len(fa.Rules) != 1 ||
		fa.Headers.User != "X-User" || fa.Headers.Groups != "Remote-Groups" || fa.DefaultPolicy != "bypass" {
		t.Errorf("forward_auth = %+v", fa)
	}
	for _, tc := range []struct{ env, want string }{
		{`GATEWAY_FORWARD_AUTH_RULES=[{host: "a b", policy: deny}]`, "forward_auth.rules"},
		{`GATEWAY_FORWARD_AUTH_RULES=[{host: "*.x.com", path: "admin", policy: deny}]`, "must start with /"},
		{`GATEWAY_FORWARD_AUTH_RULES=[{host: x.com, methods: [FETCH], policy: deny}]`, `"FETCH"`},
		{`GATEWAY_FORWARD_AUTH_RULES=[{host: x.com, policy: one_factor, max_mfa_age: 1h}]`, "needs policy two_factor"},
		{"GATEWAY_FORWARD_AUTH_DEFAULT_POLICY=allow", "forward_auth.default_policy"},
		{"GATEWAY_FORWARD_AUTH_HEADERS_EMAIL=Remote-User", "used twice"},
		{"GATEWAY_FORWARD_AUTH_HEADERS_NAME=Remote Name", "not a header name"},
		{`GATEWAY_FORWARD_AUTH_UPSTREAMS=[{host: localhost, url: "http://x:1"}]`, "base_url's host"},
		{`GATEWAY_FORWARD_AUTH_UPSTREAMS=[{host: a.test, url: "x:1"}]`, "absolute http(s) URL"},
		{`GATEWAY_FORWARD_AUTH_UPSTREAMS=[{host: a.test, url: "http://x"}, {host: A.test, url: "http://y"}]`, "given twice"},
	} {
		if _, err := Load("", []string{tc.env}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %s", tc.env, err, tc.want)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/config"
)

// result is one in-process run of the command.
type result struct {
	code           int
	stdout, stderr string
}

// gw runs the command in-process with the given environment (on top of a
// fresh data dir and cheap argon2 settings unless overridden).
func gw(t *testing.T, environ []string, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, env{
		stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, environ: environ,
	})
	return result{code, out.String(), errb.String()}
}

// dataEnv is an environment with its own data dir.
func dataEnv(t *testing.T) []string {
	return []string{
		"GATEWAY_DATA_DIR=" + t.TempDir(),
		"GATEWAY_PASSWORDS_ARGON2_MEMORY_KIB=8192",
		"GATEWAY_PASSWORDS_ARGON2_ITERATIONS=1",
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	e := dataEnv(t)
	for _, args := range [][]string{
		{}, {"bogus"}, {"users"}, {"users", "add"}, {"users", "add", "not-an-email"},
		{"users", "list", "--nope"}, {"groups", "frob"}, {"--config"}, {"version", "extra"},
	} {
		r := gw(t, e, "", args...)
		if r.code != 2 || r.stderr == "" {
			t.Errorf("gateway %v: exit %d, stderr %q; want 2 with a message", args, r.code, r.stderr)
		}
	}
}

func TestBadConfigExits2NamingEveryKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gateway.yaml")
	os.WriteFile(path, []byte("listen: nope\nsessions: {store: disk}\n"), 0o600)
	r := gw(t, []string{"GATEWAY_LOG_LEVEL=loud"}, "", "--config", path, "serve")
	if r.code != 2 {
		t.Fatalf("exit %d, want 2; stderr:\n%s", r.code, r.stderr)
	}
	for _, key := range []string{"listen:", "sessions.store:", "log.level"} {
		if !strings.Contains(r.stderr, key) {
			t.Errorf("stderr does not name %s:\n%s", key, r.stderr)
		}
	}
}

func TestUnreachableStoreExits1WithoutPassword(t *testing.T) {
	e := append(dataEnv(t), "GATEWAY_DATABASE=postgres://portcullis:hunter2secret@127.0.0.1:1/gateway?sslmode=disable")
	r := gw(t, e, "", "serve")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "127.0.0.1:1") || strings.Contains(r.stderr, "hunter2secret") {
		t.Errorf("stderr must name the host and hide the password:\n%s", r.stderr)
	}
}

func TestUsersAndGroups(t *testing.T) {
	e := dataEnv(t)
	if r := gw(t, e, "", "users", "add", "ann@example.com", "--group", "staff"); r.code != 1 ||
		!strings.Contains(r.stderr, `group "staff"`) {
		t.Fatalf("add with unknown group: %+v", r)
	}
	if r := gw(t, e, "", "users", "list", "--json"); strings.Contains(r.stdout, "ann@example.com") {
		t.Fatalf("failed add left the user behind:\n%s", r.stdout)
	}
	mustRun(t, e, "", "groups", "add", "staff")
	if r := gw(t, e, "", "groups", "add", "Staff"); r.code != 1 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("duplicate group: %+v", r)
	}
	mustRun(t, e, "a long enough password\n", "users", "add", "ann@example.com", "--name", "Ann Example",
		"--password-stdin", "--group", "staff", "--admin")
	r := mustRun(t, e, "", "users", "add", "ben@example.com", "--json")
	var ben userView
	if err := json.Unmarshal([]byte(r.stdout), &ben); err != nil || ben.OneTimePassword == "" || !ben.PasswordReset {
		t.Fatalf("users add --json without a password must print a one-time password: %v %s", err, r.stdout)
	}
	mustRun(t, e, "", "groups", "members", "staff", "--add", "ben@example.com")
	var change map[string]any
	decode(t, mustRun(t, e, "", "users", "disable", "ben@example.com", "--json").stdout, &change)
	if change["changed"] != true || change["action"] != "disable" {
		t.Errorf("disable --json = %v", change)
	}
	decode(t, mustRun(t, e, "", "users", "disable", "ben@example.com", "--json").stdout, &change)
	if change["changed"] != false {
		t.Errorf("second disable reported a change: %v", change)
	}

	var users []userView
	decode(t, mustRun(t, e, "", "users", "list", "--json").stdout, &users)
	if len(users) != 2 { // the CLI does not bootstrap an admin: only serve does
		t.Errorf("users = %+v, want ann and ben", users)
	}
	got := map[string]userView{}
	for _, u := range users {
		got[u.Email] = u
	}
	if a := got["ann@example.com"]; !a.Admin || a.Name != "Ann Example" || strings.Join(a.Groups, ",") != "staff" || a.PasswordReset {
		t.Errorf("ann = %+v", a)
	}
	if b := got["ben@example.com"]; !b.Disabled || strings.Join(b.Groups, ",") != "staff" {
		t.Errorf("ben = %+v", b)
	}
	var members []userView
	decode(t, mustRun(t, e, "", "groups", "members", "staff", "--remove", "ann@example.com", "--json").stdout, &members)
	if len(members) != 1 || members[0].Email != "ben@example.com" {
		t.Errorf("members after remove = %+v", members)
	}
	mustRun(t, e, "", "users", "delete", "ben@example.com")
	if r := gw(t, e, "", "users", "enable", "ben@example.com"); r.code != 1 || !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("enable of deleted user: %+v", r)
	}
	var groups []groupView
	decode(t, mustRun(t, e, "", "groups", "list", "--json").stdout, &groups)
	if len(groups) != 1 || groups[0].Name != "staff" || groups[0].Members != 0 {
		t.Errorf("groups = %+v", groups)
	}
}

func TestLogFormats(t *testing.T) {
	for format, want := range map[string]string{"json": `"msg":"hello"`, "text": "msg=hello"} {
		var b strings.Builder
		cfg := &config.Config{Log: config.Log{Level: "info", Format: format}}
		l := newLogger(cfg, &b)
		l.Debug("hidden")
		l.Info("hello")
		if !strings.Contains(b.String(), want) || strings.Contains(b.String(), "hidden") {
			t.Errorf("%s log = %q", format, b.String())
		}
	}
}

func TestVersion(t *testing.T) {
	var v map[string]string
	decode(t, mustRun(t, nil, "", "version", "--json").stdout, &v)
	if v["version"] == "" || !strings.HasPrefix(v["go"], "go1.") {
		t.Errorf("version = %v", v)
	}
}

func mustRun(t *testing.T, environ []string, stdin string, args ...string) result {
	t.Helper()
	r := gw(t, environ, stdin, args...)
	if r.code != 0 {
		t.Fatalf("gateway %v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

func decode(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("not JSON (%v):\n%s", err, s)
	}
}

// usageCase is a command line that must be refused as bad usage, and what
// the refusal must say.
type usageCase struct {
	args []string
	want string
}

// wantUsageErrors runs each case and wants exit 2 with its words on stderr.
func wantUsageErrors(t *testing.T, environ []string, cases []usageCase) {
	t.Helper()
	for _, tc := range cases {
		r := gw(t, environ, "", tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("gateway %v: exit %d, stderr %q; want 2 saying %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

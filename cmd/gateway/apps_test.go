package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/portcullis/portcullis/internal/catalog"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/sqlite"
)

// openEnvStore opens the store of an environment from dataEnv, to check
// what a command wrote.
func openEnvStore(t *testing.T, environ []string) store.Store {
	t.Helper()
	var dir string
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "GATEWAY_DATA_DIR="); ok {
			dir = v
		}
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "portcullis.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func eventCount(t *testing.T, environ []string, typ string) int {
	t.Helper()
	evs, err := openEnvStore(t, environ).ListEvents(t.Context(), store.EventFilter{Types: []string{typ}})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

func TestAppsUsageErrors(t *testing.T) {
	e := dataEnv(t)
	sp := filepath.Join("testdata", "sp.xml")
	wantUsageErrors(t, e, []usageCase{
		{[]string{"apps"}, "subcommand"},
		{[]string{"apps", "frob"}, "unknown apps subcommand"},
		{[]string{"apps", "add", "--metadata", sp}, "one app name"},
		{[]string{"apps", "add", "wiki"}, "--metadata"},
		{[]string{"apps", "add", "wiki", "--metadata", sp, "--nameid-format", "bogus"}, `nameid_format "bogus" is not email, persistent, transient or unspecified`},
		{[]string{"apps", "add", "wiki", "--metadata", sp, "--mfa", "sometimes"}, `mfa "sometimes"`},
		{[]string{"apps", "add", "wiki", "--metadata", sp, "--sign", "never", "--encrypt", "rot13"}, `encrypt "rot13"`},
		{[]string{"apps", "add", "wiki", "--metadata", sp, "--attr", "noequals"}, "NAME=SOURCE"},
		{[]string{"apps", "add", "wiki", "--metadata", sp, "--attr", "a=shoe"}, `source "shoe"`},
		{[]string{"apps", "add", "wiki", "--metadata", sp, "--mfa-factor", "sms"}, `mfa factor "sms"`},
		{[]string{"apps", "add", "wiki", "--metadata", sp, "--mfa-max-age", "soon"}, `mfa_max_age "soon"`},
		{[]string{"apps", "add", "wiki", "--metadata", sp, "--mfa-max-age", "-1h"}, `mfa_max_age "-1h"`},
		{[]string{"apps", "remove"}, "one app name"},
		{[]string{"apps", "refresh", "a", "b"}, "at most one"},
		{[]string{"apps", "list", "extra"}, "no arguments"},
		{[]string{"keys"}, "subcommand"},
		{[]string{"keys", "frob"}, "unknown keys subcommand"},
		{[]string{"keys", "rotate", "--soon"}, "-soon"},
	})
	if r := mustRun(t, e, "", "apps", "list", "--json"); strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("usage errors wrote apps: %s", r.stdout)
	}
}

func TestAppsAddListRemove(t *testing.T) {
	e := dataEnv(t)
	mustRun(t, e, "", "groups", "add", "eng")
	r := mustRun(t, e, "", "apps", "add", "wiki", "--metadata", filepath.Join("testdata", "sp.xml"), "--group", "eng",
		"--mfa", "required", "--nameid-format", "persistent", "--attr", "mail=email", "--attr", `tenant="acme"`,
		"--sign", "both", "--mfa-factor", "webauthn", "--mfa-factor", "push", "--mfa-max-age", "12h", "--json")
	var added appView
	decode(t, r.stdout, &added)
	if added.EntityID != "https://wiki.example.com/saml" || added.MFA != "required" || added.MetadataSource != "file" ||
		strings.Join(added.Groups, ",") != "eng" || len(added.ACSURLs) != 2 {
		t.Errorf("added %+v", added)
	}
	if r.stderr != "" {
		t.Errorf("warnings for an app with a group: %s", r.stderr)
	}
	app, err := openEnvStore(t, e).AppByName(t.Context(), "wiki")
	if err != nil || !strings.Contains(string(app.Settings), `"nameid_format":"persistent"`) ||
		!strings.Contains(string(app.Settings), `"value":"acme"`) ||
		!strings.Contains(string(app.Settings), `"mfa_factors":["webauthn","push"],"mfa_max_age":"12h"`) {
		t.Errorf("stored settings %s, %v", app.Settings, err)
	}

	if r := gw(t, e, "", "apps", "add", "Wiki", "--metadata", filepath.Join("testdata", "sp.xml")); r.code != 1 ||
		!strings.Contains(r.stderr, `an app named "Wiki" already exists`) {
		t.Errorf("duplicate name: %+v", r)
	}
	if r := gw(t, e, "", "apps", "add", "wiki2", "--metadata", filepath.Join("testdata", "sp.xml")); r.code != 1 ||
		!strings.Contains(r.stderr, "already has entity ID") {
		t.Errorf("duplicate entity ID: %+v", r)
	}

	var apps []appView
	decode(t, mustRun(t, e, "", "apps", "list", "--json").stdout, &apps)
	if len(apps) != 1 || apps[0].Name != "wiki" || apps[0].ACSURLs[0] != "https://wiki.example.com/saml/acs" {
		t.Errorf("apps = %+v", apps)
	}
	if out := mustRun(t, e, "", "apps", "list").stdout; !strings.Contains(out, "https://wiki.example.com/saml") ||
		!strings.Contains(out, "required") {
		t.Errorf("apps list:\n%s", out)
	}
	mustRun(t, e, "", "apps", "remove", "wiki")
	if r := gw(t, e, "", "apps", "remove", "wiki"); r.code != 1 || !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("second remove: %+v", r)
	}
	if n, d := eventCount(t, e, catalog.EventAppCreated), eventCount(t, e, catalog.EventAppDeleted); n != 1 || d != 1 {
		t.Errorf("%d app.created and %d app.deleted events, want 1 each", n, d)
	}
}

func TestAppsAddWarnsWithoutGroup(t *testing.T) {
	e := dataEnv(t)
	r := mustRun(t, e, "", "apps", "add", "wiki", "--metadata", filepath.Join("testdata", "sp.xml"))
	if !strings.Contains(r.stderr, "nobody can use it") || !strings.Contains(r.stderr, "--group '*'") {
		t.Errorf("no warning for an app without groups: %q", r.stderr)
	}
	r = mustRun(t, e, "", "apps", "add", "all", "--metadata", writeSP(t, "https://all.example.com"), "--group", "*")
	if r.stderr != "" {
		t.Errorf("warning for --group '*': %q", r.stderr)
	}
}

// Refused input writes nothing: no app, no event.
func TestAppsAddRefusesBadMetadata(t *testing.T) {
	e := dataEnv(t)
	big := filepath.Join(t.TempDir(), "big.xml")
	os.WriteFile(big, bytes.Repeat([]byte(" "), catalog.MaxMetadataBytes+1), 0o600)
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte(" "), catalog.MaxMetadataBytes+1))
	}))
	defer huge.Close()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--metadata", filepath.Join("testdata", "doctype.xml")}, "refusing a <!DOCTYPE> declaration"},
		{[]string{"--metadata", filepath.Join("testdata", "idp.xml")}, "not a service provider"},
		{[]string{"--metadata", big}, "larger than 1048576 bytes"},
		{[]string{"--metadata", huge.URL}, "larger than 1048576 bytes"},
		{[]string{"--metadata", filepath.Join("testdata", "missing.xml")}, "no such file"},
		{[]string{"--metadata", filepath.Join("testdata", "sp.xml"), "--group", "nobody"}, `group "nobody" does not exist`},
	} {
		r := gw(t, e, "", append([]string{"apps", "add", "bad"}, tc.args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("apps add %v: exit %d, stderr %q; want 1 saying %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	if r := mustRun(t, e, "", "apps", "list", "--json"); strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("refused adds wrote apps: %s", r.stdout)
	}
	if n := eventCount(t, e, catalog.EventAppCreated); n != 0 {
		t.Errorf("%d app.created events after refusals", n)
	}
}

func TestAppsRefresh(t *testing.T) {
	e := dataEnv(t)
	var doc atomic.Value
	doc.Store(spXML("https://sp.example.com", "https://sp.example.com/acs"))
	var down atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(doc.Load().(string)))
	}))
	defer srv.Close()
	r := mustRun(t, e, "", "apps", "add", "sp", "--metadata", srv.URL, "--group", "*")
	if !strings.Contains(r.stderr, "plain http") {
		t.Errorf("no warning for metadata over http: %q", r.stderr)
	}
	mustRun(t, e, "", "apps", "add", "file", "--metadata", filepath.Join("testdata", "sp.xml"), "--group", "*")

	var results []refreshView
	decode(t, mustRun(t, e, "", "apps", "refresh", "--json").stdout, &results)
	if len(results) != 1 || results[0].Name != "sp" || results[0].Changed {
		t.Errorf("unchanged: %+v", results)
	}
	doc.Store(spXML("https://sp.example.com", "https://sp.example.com/new-acs"))
	decode(t, mustRun(t, e, "", "apps", "refresh", "sp", "--json").stdout, &results)
	if len(results) != 1 || !results[0].Changed {
		t.Errorf("changed: %+v", results)
	}
	var apps []appView
	decode(t, mustRun(t, e, "", "apps", "list", "--json").stdout, &apps)
	for _, a := range apps {
		if a.Name == "sp" && strings.Join(a.ACSURLs, ",") != "https://sp.example.com/new-acs" {
			t.Errorf("ACS after refresh: %v", a.ACSURLs)
		}
	}
	if n := eventCount(t, e, catalog.EventMetadataRefreshed); n != 1 {
		t.Errorf("%d app.metadata_refreshed events, want 1", n)
	}

	down.Store(true)
	r = gw(t, e, "", "apps", "refresh")
	if r.code != 1 || !strings.Contains(r.stdout, "failed") || !strings.Contains(r.stderr, "keep their metadata") {
		t.Errorf("refresh with the SP down: %+v", r)
	}
	decode(t, mustRun(t, e, "", "apps", "list", "--json").stdout, &apps)
	for _, a := range apps {
		if a.Name == "sp" && strings.Join(a.ACSURLs, ",") != "https://sp.example.com/new-acs" {
			t.Errorf("a failed refresh changed the metadata: %v", a.ACSURLs)
		}
	}
	if r := gw(t, e, "", "apps", "refresh", "file"); r.code != 1 || !strings.Contains(r.stderr, "from a file") {
		t.Errorf("refresh of a file app: %+v", r)
	}
	if r := gw(t, e, "", "apps", "refresh", "nope"); r.code != 1 || !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("refresh of an unknown app: %+v", r)
	}
}

func spXML(entityID, acs string) string {
	return `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="` + entityID + `">
  <SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="` + acs + `" index="0"/>
  </SPSSODescriptor>
</EntityDescriptor>`
}

func writeSP(t *testing.T, entityID string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sp.xml")
	if err := os.WriteFile(path, []byte(spXML(entityID, entityID+"/acs")), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

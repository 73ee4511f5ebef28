package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/portcullis/portcullis/sp"
	"github.com/portcullis/portcullis/store"
)

// The upstream IdP metadata fixtures of package sp.
var (
	oktaXML  = filepath.Join("..", "..", "sp", "testdata", "metadata", "okta.xml")
	entraXML = filepath.Join("..", "..", "sp", "testdata", "metadata", "entra.xml")
)

const oktaEntity = "http://www.okta.com/exk8portcullis0x5d7"

func readFixture(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeTemp(t *testing.T, doc string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "idp.xml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestIdPsUsageErrors(t *testing.T) {
	e := dataEnv(t)
	wantUsageErrors(t, e, []usageCase{
		{[]string{"idps"}, "subcommand"},
		{[]string{"idps", "frob"}, "unknown idps subcommand"},
		{[]string{"idps", "add", "--metadata", oktaXML}, "one IdP name"},
		{[]string{"idps", "add", "okta"}, "--metadata"},
		{[]string{"idps", "add", "okta", "--metadata", oktaXML, "--link", "upn"}, `link "upn" is not email, nameid or attribute`},
		{[]string{"idps", "add", "okta", "--metadata", oktaXML, "--link", "attribute"}, "needs link_attribute"},
		{[]string{"idps", "add", "okta", "--metadata", oktaXML, "--link-attribute", "uid"}, "only used with link attribute"},
		{[]string{"idps", "add", "okta", "--metadata", oktaXML, "--want", "both", "--link", "x"}, `want "both"`},
		{[]string{"idps", "add", "okta", "--metadata", oktaXML, "--trust"}, "-trust"},
		{[]string{"idps", "remove"}, "one IdP name"},
		{[]string{"idps", "refresh", "a", "b"}, "at most one"},
		{[]string{"idps", "list", "extra"}, "no arguments"},
	})
	if r := mustRun(t, e, "", "idps", "list", "--json"); strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("usage errors wrote IdPs: %s", r.stdout)
	}
}

func TestIdPsAddListRemove(t *testing.T) {
	e := dataEnv(t)
	r := mustRun(t, e, "", "idps", "add", "okta", "--metadata", oktaXML, "--link", "attribute",
		"--link-attribute", "employeeNumber", "--create-users", "--groups-attribute", "groups", "--trust-mfa",
		"--want", "assertion", "--json")
	var added idpView
	decode(t, r.stdout, &added)
	if added.EntityID != oktaEntity || added.MetadataSource != "file" || len(added.SSO) != 1 ||
		len(added.Certificates) != 1 || added.Settings.Link != sp.LinkByAttribute || !added.Settings.CreateUsers ||
		!added.Settings.TrustMFA || added.Settings.AllowUnsolicited || added.Settings.Want != sp.WantAssertion {
		t.Errorf("added %+v", added)
	}
	p, err := openEnvStore(t, e).IdPByName(t.Context(), "okta")
	if err != nil || !strings.Contains(string(p.Settings), `"link_attribute":"employeeNumber"`) ||
		!strings.Contains(string(p.Settings), `"groups_attribute":"groups"`) {
		t.Errorf("stored settings %s, %v", p.Settings, err)
	}
	if s, err := sp.ParseSettings(p.Settings); err != nil || s.SignedParts() != sp.SignedAssertion {
		t.Errorf("stored settings do not parse back: %+v, %v", s, err)
	}

	if r := gw(t, e, "", "idps", "add", "OKTA", "--metadata", entraXML); r.code != 1 ||
		!strings.Contains(r.stderr, `an IdP named "OKTA" already exists`) {
		t.Errorf("duplicate name: %+v", r)
	}
	if r := gw(t, e, "", "idps", "add", "okta2", "--metadata", oktaXML); r.code != 1 ||
		!strings.Contains(r.stderr, "already has entity ID "+oktaEntity) {
		t.Errorf("duplicate entity ID: %+v", r)
	}
	r = mustRun(t, e, "", "idps", "add", "entra", "--metadata", entraXML, "--allow-unsolicited")
	if !strings.Contains(r.stdout, "Added IdP entra") || !strings.Contains(r.stdout, "certs: 2") {
		t.Errorf("add output:\n%s", r.stdout)
	}

	var idps []idpView
	decode(t, mustRun(t, e, "", "idps", "list", "--json").stdout, &idps)
	if len(idps) != 2 || idps[0].Name != "entra" || idps[1].Name != "okta" || len(idps[0].Certificates) != 2 ||
		!idps[0].Settings.AllowUnsolicited || idps[0].Settings.Link != sp.LinkByEmail || idps[0].Settings.Want != sp.WantEither {
		t.Errorf("idps = %+v", idps)
	}
	out := mustRun(t, e, "", "idps", "list").stdout
	if !strings.Contains(out, "ENTITY ID") || !strings.Contains(out, oktaEntity) || !strings.Contains(out, "attribute") ||
		!strings.Contains(out, "https://login.microsoftonline.com/") {
		t.Errorf("idps list:\n%s", out)
	}

	decode(t, mustRun(t, e, "", "idps", "remove", "okta", "--json").stdout, &map[string]any{})
	if r := gw(t, e, "", "idps", "remove", "okta"); r.code != 1 || !strings.Contains(r.stderr, `IdP "okta" does not exist`) {
		t.Errorf("second remove: %+v", r)
	}
	if n, d := eventCount(t, e, sp.EventIdPAdded), eventCount(t, e, sp.EventIdPRemoved); n != 2 || d != 1 {
		t.Errorf("%d idp.added and %d idp.removed events, want 2 and 1", n, d)
	}
}

// Refused metadata writes nothing: no IdP, no event.
func TestIdPsAddRefusesBadMetadata(t *testing.T) {
	e := dataEnv(t)
	okta := readFixture(t, oktaXML)
	body := strings.TrimPrefix(okta, `<?xml version="1.0" encoding="UTF-8"?>`)
	for _, tc := range []struct{ source, want string }{
		{writeTemp(t, `<!DOCTYPE x [<!ENTITY e "e">]>`+body), "refusing a <!DOCTYPE> declaration"},
		{filepath.Join("testdata", "sp.xml"), "has no IDPSSODescriptor"},
		{writeTemp(t, strings.ReplaceAll(okta, `use="signing"`, `use="encryption"`)), "no signing certificate"},
		{writeTemp(t, strings.Replace(okta, `entityID=`, `validUntil="2001-01-01T00:00:00Z" entityID=`, 1)), "expired at 2001-01-01T00:00:00Z"},
		{filepath.Join("testdata", "missing.xml"), "no such file"},
	} {
		r := gw(t, e, "", "idps", "add", "bad", "--metadata", tc.source)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("idps add --metadata %s: exit %d, stderr %q; want 1 saying %q", tc.source, r.code, r.stderr, tc.want)
		}
	}
	if r := mustRun(t, e, "", "idps", "list", "--json"); strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("refused adds wrote IdPs: %s", r.stdout)
	}
	if n := eventCount(t, e, sp.EventIdPAdded); n != 0 {
		t.Errorf("%d idp.added events after refusals", n)
	}
}

func TestIdPsRefresh(t *testing.T) {
	e := dataEnv(t)
	okta := readFixture(t, oktaXML)
	var doc atomic.Value
	doc.Store(okta)
	var down atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(doc.Load().(string)))
	}))
	defer srv.Close()
	if r := mustRun(t, e, "", "idps", "add", "okta", "--metadata", srv.URL); !strings.Contains(r.stderr, "plain http") {
		t.Errorf("no warning for metadata over http: %q", r.stderr)
	}
	mustRun(t, e, "", "idps", "add", "entra", "--metadata", entraXML)

	var results []refreshView
	decode(t, mustRun(t, e, "", "idps", "refresh", "--json").stdout, &results)
	if len(results) != 1 || results[0].Name != "okta" || results[0].Changed || results[0].Error != "" {
		t.Errorf("unchanged: %+v", results)
	}
	moved := strings.ReplaceAll(okta, "https://example.okta.com/", "https://login.example.com/")
	doc.Store(moved)
	decode(t, mustRun(t, e, "", "idps", "refresh", "okta", "--json").stdout, &results)
	if len(results) != 1 || !results[0].Changed {
		t.Errorf("changed: %+v", results)
	}
	ssoOf := func() string {
		var idps []idpView
		decode(t, mustRun(t, e, "", "idps", "list", "--json").stdout, &idps)
		for _, v := range idps {
			if v.Name == "okta" {
				return strings.Join(v.SSO, ",")
			}
		}
		return ""
	}
	if got := ssoOf(); !strings.HasPrefix(got, "https://login.example.com/") {
		t.Errorf("SSO after refresh: %s", got)
	}
	if n := eventCount(t, e, sp.EventIdPRefreshed); n != 1 {
		t.Errorf("%d idp.refreshed events, want 1", n)
	}

	doc.Store(strings.ReplaceAll(moved, oktaEntity, "http://www.okta.com/other"))
	if r := gw(t, e, "", "idps", "refresh", "okta"); r.code != 1 || !strings.Contains(r.stdout, "instead of "+oktaEntity) {
		t.Errorf("refresh to another entity ID: %+v", r)
	}
	down.Store(true)
	if r := gw(t, e, "", "idps", "refresh"); r.code != 1 || !strings.Contains(r.stdout, "failed") ||
		!strings.Contains(r.stderr, "keep their metadata") {
		t.Errorf("refresh with the IdP down: %+v", r)
	}
	if got := ssoOf(); !strings.HasPrefix(got, "https://login.example.com/") {
		t.Errorf("a failed refresh changed the metadata: %s", got)
	}
	if n := eventCount(t, e, sp.EventIdPRefreshed); n != 1 {
		t.Errorf("%d idp.refreshed events after failures, want 1", n)
	}
	if r := gw(t, e, "", "idps", "refresh", "entra"); r.code != 1 || !strings.Contains(r.stderr, "from a file") {
		t.Errorf("refresh of a file IdP: %+v", r)
	}
	if r := gw(t, e, "", "idps", "refresh", "nope"); r.code != 1 || !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("refresh of an unknown IdP: %+v", r)
	}
}

// With no IdP added from a URL, refresh has nothing to do and says so; the
// CLI's changes are recorded with the actor "cli".
func TestIdPsRefreshNothing(t *testing.T) {
	e := dataEnv(t)
	if r := mustRun(t, e, "", "idps", "refresh"); strings.TrimSpace(r.stdout) != "No IdP has metadata from a URL." {
		t.Errorf("refresh with no IdPs: %q", r.stdout)
	}
	mustRun(t, e, "", "idps", "add", "entra", "--metadata", entraXML)
	if r := mustRun(t, e, "", "idps", "refresh", "--json"); strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("refresh --json with only a file IdP: %q", r.stdout)
	}
	mustRun(t, e, "", "idps", "remove", "entra")
	evs, err := openEnvStore(t, e).ListEvents(t.Context(),
		store.EventFilter{Types: []string{sp.EventIdPAdded, sp.EventIdPRemoved}})
	if err != nil || len(evs) != 2 || evs[0].Actor != "cli" || evs[1].Actor != "cli" {
		t.Errorf("events %+v, %v; want idp.added and idp.removed by the cli", evs, err)
	}
}

func TestIdPsSet(t *testing.T) {
	e := dataEnv(t)
	mustRun(t, e, "", "idps", "add", "okta", "--metadata", oktaXML, "--link", "attribute",
		"--link-attribute", "employeeNumber", "--create-users", "--groups-attribute", "groups")
	st := openEnvStore(t, e)
	before, err := st.IdPByName(t.Context(), "okta")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(t.Context(), &store.User{Email: "ada@example.com"}); err != nil {
		t.Fatal(err)
	}
	ada, _ := st.UserByEmail(t.Context(), "ada@example.com")
	if err := st.CreateIdPLink(t.Context(), &store.IdPLink{IdPID: before.ID, Subject: "E-1", UserID: ada.ID}); err != nil {
		t.Fatal(err)
	}

	// Only the settings named change; links and metadata stay.
	r := mustRun(t, e, "", "idps", "set", "OKTA", "--trust-mfa", "--create-users=false", "--json")
	var v idpView
	decode(t, r.stdout, &v)
	want := sp.Settings{Link: sp.LinkByAttribute, LinkAttribute: "employeeNumber", GroupsAttribute: "groups",
		TrustMFA: true, Want: sp.WantEither}
	if v.Settings != want {
		t.Errorf("settings %+v, want %+v", v.Settings, want)
	}
	after, err := st.IdPByName(t.Context(), "okta")
	if err != nil || after.Metadata != before.Metadata {
		t.Fatalf("metadata changed (%v)", err)
	}
	if l, err := st.IdPLink(t.Context(), before.ID, "E-1"); err != nil || l.UserID != ada.ID {
		t.Errorf("link lost: %+v, %v", l, err)
	}
	evs, err := st.ListEvents(t.Context(), store.EventFilter{Types: []string{sp.EventIdPUpdated}})
	if err != nil || len(evs) != 1 || evs[0].Actor != "cli" || evs[0].Details["trust_mfa"] != "true" ||
		evs[0].Details["create_users"] != "false" {
		t.Fatalf("events %+v, %v", evs, err)
	}

	// Leaving link attribute drops its attribute; bad settings change nothing.
	r = mustRun(t, e, "", "idps", "set", "okta", "--link", "nameid")
	if !strings.Contains(r.stdout, "IdP okta updated: link.") {
		t.Errorf("stdout %q", r.stdout)
	}
	if p, _ := st.IdPByName(t.Context(), "okta"); !strings.Contains(string(p.Settings), `"link":"nameid"`) ||
		strings.Contains(string(p.Settings), "employeeNumber") {
		t.Errorf("settings %s", p.Settings)
	}
	wantUsageErrors(t, e, []usageCase{
		{[]string{"idps", "set"}, "one IdP name"},
		{[]string{"idps", "set", "okta"}, "a setting to change"},
		{[]string{"idps", "set", "okta", "--trust"}, "-trust"},
		{[]string{"idps", "set", "okta", "--link-attribute", "uid"}, "only used with link attribute"},
		{[]string{"idps", "set", "okta", "--want", "both"}, `want "both"`},
	})
	if r := gw(t, e, "", "idps", "set", "nope", "--trust-mfa"); r.code != 1 || !strings.Contains(r.stderr, `IdP "nope" does not exist`) {
		t.Errorf("unknown IdP: %+v", r)
	}
	if p, _ := st.IdPByName(t.Context(), "okta"); !strings.Contains(string(p.Settings), `"want":"either"`) ||
		strings.Contains(string(p.Settings), `"link_attribute"`) {
		t.Errorf("a refused set changed the settings: %s", p.Settings)
	}
}

package catalog

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/sp"
	"github.com/portcullis/portcullis/store"
)

// Entity IDs of the upstream IdP fixtures of package sp.
const (
	oktaEntity = "http://www.okta.com/exk8portcullis0x5d7"
	adfsEntity = "http://adfs.example.com/adfs/services/trust"
)

func idpFixturePath(name string) string {
	return filepath.Join("..", "..", "sp", "testdata", "metadata", name+".xml")
}

func idpFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(idpFixturePath(name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fixtureCerts are the base64 DER of the two certificates in the fixtures:
// the one Okta signs with, and the other one Entra ID also publishes.
func fixtureCerts(t *testing.T) (current, next string) {
	t.Helper()
	u, err := sp.ParseMetadata([]byte(idpFixture(t, "entra")))
	if err != nil || len(u.Certs) != 2 {
		t.Fatalf("entra fixture: %d certificates, %v", len(u.Certs), err)
	}
	current = base64.StdEncoding.EncodeToString(u.Certs[0].Raw)
	next = base64.StdEncoding.EncodeToString(u.Certs[1].Raw)
	if !strings.Contains(idpFixture(t, "okta"), current) {
		t.Fatal("the okta fixture does not sign with entra's first certificate")
	}
	return current, next
}

// oktaWithCerts is the Okta fixture publishing certs as its signing
// certificates, in order.
func oktaWithCerts(t *testing.T, certs ...string) string {
	t.Helper()
	current, _ := fixtureCerts(t)
	okta := idpFixture(t, "okta")
	start := strings.Index(okta, "<md:KeyDescriptor")
	end := strings.Index(okta, "</md:KeyDescriptor>") + len("</md:KeyDescriptor>")
	var kds strings.Builder
	for _, c := range certs {
		kds.WriteString(strings.Replace(okta[start:end], current, c, 1))
	}
	return okta[:start] + kds.String() + okta[end:]
}

func idpEvents(t *testing.T, st store.Store, typ string) []audit.Event {
	t.Helper()
	evs, err := st.ListEvents(t.Context(), store.EventFilter{Types: []string{typ}})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func fingerprintsOf(t *testing.T, doc string) string {
	t.Helper()
	u, err := sp.ParseMetadata([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(IdPFingerprints(u), " ")
}

func TestAddIdP(t *testing.T) {
	st := openStore(t)
	srv := newMetadataServer(t)
	c := &Catalog{Store: st, Actor: "cli", Now: func() time.Time { return now }}
	s := sp.Settings{Link: sp.LinkByAttribute, LinkAttribute: "employeeNumber", CreateUsers: true, Want: sp.WantAssertion}

	okta, u, err := c.AddIdP(t.Context(), " okta ", idpFixturePath("okta"), s)
	must(t, err)
	if okta.Name != "okta" || okta.EntityID != oktaEntity || okta.MetadataURL != "" || okta.ID == 0 ||
		okta.Metadata != idpFixture(t, "okta") || u.EntityID != oktaEntity || len(u.Certs) != 1 || len(u.SSO) != 2 {
		t.Errorf("okta = %+v, upstream %+v", okta, u)
	}
	if got, err := sp.ParseSettings(okta.Settings); err != nil || got.LinkAttribute != "employeeNumber" ||
		!got.CreateUsers || got.SignedParts() != sp.SignedAssertion {
		t.Errorf("stored settings %s: %+v, %v", okta.Settings, got, err)
	}
	url := srv.set("/adfs", idpFixture(t, "adfs"))
	adfs, _, err := c.AddIdP(t.Context(), "adfs", url, sp.Settings{})
	must(t, err)
	if adfs.MetadataURL != url || adfs.EntityID != adfsEntity {
		t.Errorf("adfs = %+v", adfs)
	}
	if stored, err := st.IdPByName(t.Context(), "ADFS"); err != nil || stored.Metadata != idpFixture(t, "adfs") {
		t.Errorf("stored adfs %+v, %v", stored, err)
	}

	evs := idpEvents(t, st, sp.EventIdPAdded)
	if len(evs) != 2 {
		t.Fatalf("%d idp.added events, want 2", len(evs))
	}
	byName := map[string]audit.Event{evs[0].Subject: evs[0], evs[1].Subject: evs[1]}
	if e := byName["okta"]; e.Actor != "cli" || e.Outcome != audit.Success || e.Details["entity_id"] != oktaEntity ||
		e.Details["metadata"] != "file" || e.Details["link"] != sp.LinkByAttribute || e.Details["create_users"] != "true" ||
		e.Details["certificates"] != fingerprintsOf(t, okta.Metadata) {
		t.Errorf("okta's event %+v", e)
	}
	if e := byName["adfs"]; e.Details["metadata"] != url || e.Details["trust_mfa"] != "false" {
		t.Errorf("adfs's event %+v", e)
	}
}

// Every refusal leaves the store as it was: no IdP, no event.
func TestAddIdPRefusals(t *testing.T) {
	st := openStore(t)
	c := &Catalog{Store: st, Actor: "cli", Now: func() time.Time { return now }}
	_, _, err := c.AddIdP(t.Context(), "okta", idpFixturePath("okta"), sp.Settings{})
	must(t, err)
	okta := idpFixture(t, "okta")
	write := func(doc string) string {
		path := filepath.Join(t.TempDir(), "idp.xml")
		must(t, os.WriteFile(path, []byte(doc), 0o600))
		return path
	}
	expired := write(strings.Replace(strings.ReplaceAll(okta, oktaEntity, "http://www.okta.com/other"),
		`entityID=`, `validUntil="2026-02-28T00:00:00Z" entityID=`, 1))
	for name, tc := range map[string]struct {
		name, source string
		s            sp.Settings
		want         string
	}{
		"same name":       {"OKTA", idpFixturePath("entra"), sp.Settings{}, `an IdP named "OKTA" already exists`},
		"same entity ID":  {"okta2", write(okta), sp.Settings{}, `IdP "okta" already has entity ID ` + oktaEntity},
		"expired":         {"x", expired, sp.Settings{}, "expired at 2026-02-28T00:00:00Z"},
		"sp metadata":     {"x", filepath.Join("testdata", "sp.xml"), sp.Settings{}, "IDPSSODescriptor"},
		"doctype":         {"x", filepath.Join("testdata", "doctype.xml"), sp.Settings{}, "DOCTYPE"},
		"missing file":    {"x", filepath.Join(t.TempDir(), "none.xml"), sp.Settings{}, "no such file"},
		"unreachable URL": {"x", "http://127.0.0.1:1/metadata", sp.Settings{}, "fetch"},
		"no name":         {" ", idpFixturePath("entra"), sp.Settings{}, "needs a name"},
		"bad settings":    {"x", idpFixturePath("entra"), sp.Settings{Link: "upn"}, `link "upn"`},
	} {
		if _, _, err := c.AddIdP(t.Context(), tc.name, tc.source, tc.s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", name, err, tc.want)
		}
	}
	idps, _ := st.ListIdPs(t.Context())
	if len(idps) != 1 || len(idpEvents(t, st, sp.EventIdPAdded)) != 1 {
		t.Errorf("after refusals: %d IdPs, want 1", len(idps))
	}
}

// The catalogue's clock, not the machine's, decides whether metadata has
// expired.
func TestAddIdPUsesCatalogClock(t *testing.T) {
	doc := strings.Replace(idpFixture(t, "okta"), `entityID=`, `validUntil="2026-03-02T00:00:00Z" entityID=`, 1)
	path := filepath.Join(t.TempDir(), "okta.xml")
	must(t, os.WriteFile(path, []byte(doc), 0o600))
	c := &Catalog{Store: openStore(t), Actor: "cli", Now: func() time.Time { return now }}
	if _, _, err := c.AddIdP(t.Context(), "okta", path, sp.Settings{}); err != nil {
		t.Errorf("metadata valid until the day after the catalogue's now: %v", err)
	}
}

func TestRemoveIdP(t *testing.T) {
	st := openStore(t)
	c := &Catalog{Store: st, Actor: "cli"}
	_, _, err := c.AddIdP(t.Context(), "okta", idpFixturePath("okta"), sp.Settings{})
	must(t, err)
	p, err := c.RemoveIdP(t.Context(), "Okta")
	must(t, err)
	if p.Name != "okta" || p.EntityID != oktaEntity {
		t.Errorf("removed %+v", p)
	}
	if _, err := st.IdPByName(t.Context(), "okta"); err == nil {
		t.Error("the IdP is still stored")
	}
	if _, err := c.RemoveIdP(t.Context(), "okta"); err == nil || !strings.Contains(err.Error(), `IdP "okta" does not exist`) {
		t.Errorf("second remove: %v", err)
	}
	evs := idpEvents(t, st, sp.EventIdPRemoved)
	if len(evs) != 1 || evs[0].Subject != "okta" || evs[0].Actor != "cli" || evs[0].Details["entity_id"] != oktaEntity {
		t.Errorf("idp.removed events %+v", evs)
	}
}

func TestRefreshIdPs(t *testing.T) {
	st := openStore(t)
	srv := newMetadataServer(t)
	c := &Catalog{Store: st, Actor: "scheduler", Now: func() time.Time { return now }}
	current, next := fixtureCerts(t)
	okta, _, err := c.AddIdP(t.Context(), "okta", srv.set("/okta", idpFixture(t, "okta")), sp.Settings{})
	must(t, err)
	adfs, _, err := c.AddIdP(t.Context(), "adfs", srv.set("/adfs", idpFixture(t, "adfs")), sp.Settings{})
	must(t, err)
	_, _, err = c.AddIdP(t.Context(), "entra", idpFixturePath("entra"), sp.Settings{})
	must(t, err)

	results, err := c.RefreshAllIdPs(t.Context())
	must(t, err)
	if len(results) != 2 || results[0].Changed || results[1].Changed || results[0].Err != nil || results[1].Err != nil {
		t.Fatalf("unchanged metadata: %+v", results)
	}
	if got, _ := st.IdP(t.Context(), okta.ID); !got.UpdatedAt.Equal(okta.UpdatedAt) {
		t.Error("unchanged metadata was written")
	}

	// A rollover: the new certificate published beside the old, then alone.
	for _, certs := range [][]string{{current, next}, {next}} {
		doc := srv.set("/okta", oktaWithCerts(t, certs...))
		r, err := c.RefreshIdP(t.Context(), "okta")
		if err != nil || !r.Changed || r.IdP != "okta" || r.URL != doc {
			t.Fatalf("okta with %d certificates: %+v, %v", len(certs), r, err)
		}
		got, _ := st.IdP(t.Context(), okta.ID)
		if u, err := sp.ParseMetadata([]byte(got.Metadata)); err != nil || len(u.Certs) != len(certs) {
			t.Errorf("stored metadata has %d certificates, want %d (%v)", len(u.Certs), len(certs), err)
		}
	}
	evs := idpEvents(t, st, sp.EventIdPRefreshed)
	if len(evs) != 2 || evs[0].Actor != "scheduler" || evs[0].Subject != "okta" ||
		evs[0].Details["url"] != okta.MetadataURL {
		t.Fatalf("idp.refreshed events %+v", evs)
	}
	want := fingerprintsOf(t, oktaWithCerts(t, next))
	if evs[0].Details["certificates"] != want && evs[1].Details["certificates"] != want {
		t.Errorf("no event names the new certificate %s: %+v", want, evs)
	}

	srv.set("/adfs", "") // adfs's server is down
	results, err = c.RefreshAllIdPs(t.Context())
	must(t, err)
	if len(results) != 2 || results[0].IdP != "adfs" || results[0].Changed || results[0].Err == nil ||
		!strings.Contains(results[0].Err.Error(), "503") || results[1].Changed || results[1].Err != nil {
		t.Errorf("adfs down: %+v", results)
	}
	if got, _ := st.IdP(t.Context(), adfs.ID); got.Metadata != adfs.Metadata {
		t.Error("adfs's metadata lost on a failed fetch")
	}
	if n := len(idpEvents(t, st, sp.EventIdPRefreshed)); n != 2 {
		t.Errorf("%d idp.refreshed events after a failed fetch, want 2", n)
	}
}

// A document the checks refuse keeps the stored metadata and writes no
// event; so do an unknown IdP and one added from a file.
func TestRefreshIdPRefusals(t *testing.T) {
	st := openStore(t)
	srv := newMetadataServer(t)
	c := &Catalog{Store: st, Actor: "scheduler", Now: func() time.Time { return now }}
	okta, _, err := c.AddIdP(t.Context(), "okta", srv.set("/okta", idpFixture(t, "okta")), sp.Settings{})
	must(t, err)
	_, _, err = c.AddIdP(t.Context(), "entra", idpFixturePath("entra"), sp.Settings{})
	must(t, err)
	_, next := fixtureCerts(t)
	rolled := oktaWithCerts(t, next)
	for name, tc := range map[string]struct{ doc, want string }{
		"other entity ID": {strings.ReplaceAll(rolled, oktaEntity, "http://www.okta.com/other"), "instead of " + oktaEntity},
		"expired":         {strings.Replace(rolled, `entityID=`, `validUntil="2026-02-28T00:00:00Z" entityID=`, 1), "expired at"},
		"not metadata":    {"<html>maintenance</html>", "metadata"},
		"sp metadata":     {string(readTestdata(t, "sp.xml")), "IDPSSODescriptor"},
	} {
		srv.set("/okta", tc.doc)
		r, err := c.RefreshIdP(t.Context(), "okta")
		if err == nil || !strings.Contains(err.Error(), tc.want) || r.Err != err || r.Changed || r.IdP != "okta" {
			t.Errorf("%s: %+v, %v; want an error saying %q", name, r, err, tc.want)
		}
	}
	if got, _ := st.IdP(t.Context(), okta.ID); got.Metadata != okta.Metadata {
		t.Error("a refused document replaced the metadata")
	}
	if n := len(idpEvents(t, st, sp.EventIdPRefreshed)); n != 0 {
		t.Errorf("%d idp.refreshed events after refusals", n)
	}
	for name, want := range map[string]string{"entra": "from a file", "nope": "does not exist"} {
		if r, err := c.RefreshIdP(t.Context(), name); err == nil || !strings.Contains(err.Error(), want) || r.IdP != "" {
			t.Errorf("refresh %s: %+v, %v; want a zero result and %q", name, r, err, want)
		}
	}
}

// Two nodes that fetched the same new document write it once: the second
// re-reads the IdP in its transaction and finds it current. A node whose
// IdP was removed meanwhile writes nothing.
func TestRefreshIdPConcurrentNodes(t *testing.T) {
	st := openStore(t)
	srv := newMetadataServer(t)
	c := &Catalog{Store: st, Actor: "scheduler"}
	stale, _, err := c.AddIdP(t.Context(), "okta", srv.set("/okta", idpFixture(t, "okta")), sp.Settings{})
	must(t, err)
	_, next := fixtureCerts(t)
	srv.set("/okta", oktaWithCerts(t, next))
	if r := c.refreshIdP(t.Context(), stale); !r.Changed || r.Err != nil {
		t.Fatalf("first node: %+v", r)
	}
	written, _ := st.IdP(t.Context(), stale.ID)
	if r := c.refreshIdP(t.Context(), stale); r.Changed || r.Err != nil {
		t.Errorf("second node: %+v, want unchanged", r)
	}
	if got, _ := st.IdP(t.Context(), stale.ID); !got.UpdatedAt.Equal(written.UpdatedAt) {
		t.Error("the second node wrote again")
	}
	if n := len(idpEvents(t, st, sp.EventIdPRefreshed)); n != 1 {
		t.Errorf("%d idp.refreshed events, want 1", n)
	}
	_, err = c.RemoveIdP(t.Context(), "okta")
	must(t, err)
	if r := c.refreshIdP(t.Context(), stale); r.Changed || r.Err == nil {
		t.Errorf("refresh of a removed IdP: %+v, want an error", r)
	}
	if idps, _ := st.ListIdPs(t.Context()); len(idps) != 0 {
		t.Errorf("refresh brought back a removed IdP: %+v", idps)
	}
}

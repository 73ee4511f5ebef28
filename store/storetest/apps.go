package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/portcullis/portcullis/store"
)

var appTests = []test{
	{"AppCreateGet", testAppCreateGet},
	{"AppZeroValues", testAppZeroValues},
	{"AppConflict", testAppConflict},
	{"AppNotFound", testAppNotFound},
	{"AppUpdate", testAppUpdate},
	{"AppList", testAppList},
}

// settings is JSON with spacing and key order a normalising store would
// change: it must come back byte for byte.
var settings = json.RawMessage(`{ "z": 1,  "acs": ["https://sp.example.com/acs"], "a": {"b": null} }`)

func testAppCreateGet(t *testing.T, s store.Store) {
	a := store.App{
		Name: " Wiki ", Kind: store.AppSAML, EntityID: "https://wiki.example.com/saml",
		MetadataURL: "https://wiki.example.com/metadata", Metadata: "<EntityDescriptor/>",
		MFA: "required", Groups: []string{"eng", "Ops"}, Settings: settings,
	}
	before := time.Now()
	must(t, s.CreateApp(ctx(t), &a))
	within(t, "CreatedAt", a.CreatedAt, before, time.Now())
	equal(t, "UpdatedAt", a.UpdatedAt, a.CreatedAt)
	equal(t, "name", a.Name, "Wiki")
	got, err := s.App(ctx(t), a.ID)
	must(t, err)
	equal(t, "App", got, a)
	equal(t, "settings bytes", string(got.Settings), string(settings))
	got, err = s.AppByName(ctx(t), "wIKI")
	must(t, err)
	equal(t, "AppByName", got, a)
	got, err = s.AppByEntityID(ctx(t), "https://wiki.example.com/saml")
	must(t, err)
	equal(t, "AppByEntityID", got, a)
	_, err = s.AppByEntityID(ctx(t), "https://wiki.example.com/SAML")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.AppByEntityID(ctx(t), "")
	wantErr(t, err, store.ErrNotFound)
}

func testAppZeroValues(t *testing.T, s store.Store) {
	a := store.App{Name: "bare", Kind: store.AppForwardAuth, Groups: []string{}, Settings: json.RawMessage{}}
	must(t, s.CreateApp(ctx(t), &a))
	got, err := s.App(ctx(t), a.ID)
	must(t, err)
	if got.Groups != nil || got.Settings != nil {
		t.Fatalf("Groups %#v, Settings %#v; want nil for empty", got.Groups, got.Settings)
	}
	equal(t, "App", got, a)
	bad := store.App{Name: "bad", Kind: store.AppSAML, Settings: json.RawMessage(`{"a":`)}
	wantPlainErr(t, s.CreateApp(ctx(t), &bad))
	_, err = s.AppByName(ctx(t), "bad")
	wantErr(t, err, store.ErrNotFound)
}

func testAppConflict(t *testing.T, s store.Store) {
	must(t, s.CreateApp(ctx(t), &store.App{Name: "Wiki", Kind: store.AppSAML, EntityID: "urn:wiki"}))
	wantErr(t, s.CreateApp(ctx(t), &store.App{Name: "WIKI", Kind: store.AppSAML}), store.ErrConflict)
	wantErr(t, s.CreateApp(ctx(t), &store.App{Name: "Other", Kind: store.AppSAML, EntityID: "urn:wiki"}), store.ErrConflict)
	// An empty entity ID is not a value: any number of apps may lack one.
	newApp(t, s, "one")
	newApp(t, s, "two")
	wantPlainErr(t, s.CreateApp(ctx(t), &store.App{Name: "", Kind: store.AppSAML}))
	apps, err := s.ListApps(ctx(t))
	must(t, err)
	equal(t, "apps", len(apps), 3)
}

func testAppNotFound(t *testing.T, s store.Store) {
	a := newApp(t, s, "wiki")
	_, err := s.App(ctx(t), a.ID+1000)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.AppByName(ctx(t), "grafana")
	wantErr(t, err, store.ErrNotFound)
	a.ID += 1000
	wantErr(t, s.UpdateApp(ctx(t), a), store.ErrNotFound)
	wantErr(t, s.DeleteApp(ctx(t), a.ID), store.ErrNotFound)
}

func testAppUpdate(t *testing.T, s store.Store) {
	a := store.App{Name: "wiki", Kind: store.AppSAML, EntityID: "urn:wiki", CreatedAt: ts}
	must(t, s.CreateApp(ctx(t), &a))
	newApp(t, s, "taken")
	must(t, s.CreateApp(ctx(t), &store.App{Name: "other", Kind: store.AppSAML, EntityID: "urn:taken"}))
	a.Name, a.Kind, a.EntityID = "Wiki 2", store.AppForwardAuth, ""
	a.MetadataURL, a.Metadata, a.MFA = "https://m", "<m/>", "off"
	a.Groups, a.Settings = []string{"all"}, settings
	before := time.Now()
	must(t, s.UpdateApp(ctx(t), a))
	got, err := s.App(ctx(t), a.ID)
	must(t, err)
	within(t, "UpdatedAt", got.UpdatedAt, before, time.Now())
	a.UpdatedAt = got.UpdatedAt
	equal(t, "updated app", got, a)
	equal(t, "CreatedAt", got.CreatedAt, kept(ts))
	a.Name = "TAKEN"
	wantErr(t, s.UpdateApp(ctx(t), a), store.ErrConflict)
	a.Name, a.EntityID = "Wiki 2", "urn:taken"
	wantErr(t, s.UpdateApp(ctx(t), a), store.ErrConflict)
	a.EntityID, a.Settings = "", json.RawMessage("{")
	wantPlainErr(t, s.UpdateApp(ctx(t), a))
}

func testAppList(t *testing.T, s store.Store) {
	b, a, c := newApp(t, s, "beta"), newApp(t, s, "Alpha"), newApp(t, s, "gamma")
	apps, err := s.ListApps(ctx(t))
	must(t, err)
	equal(t, "apps by name", apps, []store.App{a, b, c})
	must(t, s.DeleteApp(ctx(t), b.ID))
	apps, err = s.ListApps(ctx(t))
	must(t, err)
	equal(t, "apps after delete", apps, []store.App{a, c})
}

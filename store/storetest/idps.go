package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/portcullis/portcullis/store"
)

var idpTests = []test{
	{"IdPCreateGet", testIdPCreateGet},
	{"IdPConflictNotFound", testIdPConflictNotFound},
	{"IdPUpdate", testIdPUpdate},
	{"IdPListDelete", testIdPListDelete},
}

func newIdP(t *testing.T, s store.Tx, name string) store.IdP {
	t.Helper()
	p := store.IdP{Name: name, EntityID: "urn:" + name}
	must(t, s.CreateIdP(ctx(t), &p))
	return p
}

func testIdPCreateGet(t *testing.T, s store.Store) {
	p := store.IdP{Name: " Okta ", EntityID: "http://www.okta.com/x", MetadataURL: "https://okta/m",
		Metadata: "<EntityDescriptor/>", Settings: settings}
	before := time.Now()
	must(t, s.CreateIdP(ctx(t), &p))
	within(t, "CreatedAt", p.CreatedAt, before, time.Now())
	equal(t, "UpdatedAt", p.UpdatedAt, p.CreatedAt)
	equal(t, "name", p.Name, "Okta")
	got, err := s.IdP(ctx(t), p.ID)
	must(t, err)
	equal(t, "IdP", got, p)
	equal(t, "settings bytes", string(got.Settings), string(settings))
	got, err = s.IdPByName(ctx(t), "OKTA")
	must(t, err)
	equal(t, "IdPByName", got, p)
	got, err = s.IdPByEntityID(ctx(t), "http://www.okta.com/x")
	must(t, err)
	equal(t, "IdPByEntityID", got, p)
	_, err = s.IdPByEntityID(ctx(t), "HTTP://www.okta.com/x")
	wantErr(t, err, store.ErrNotFound)
	bare := store.IdP{Name: "bare"}
	must(t, s.CreateIdP(ctx(t), &bare))
	got, err = s.IdP(ctx(t), bare.ID)
	must(t, err)
	equal(t, "bare IdP", got, bare)
}

func testIdPConflictNotFound(t *testing.T, s store.Store) {
	p := newIdP(t, s, "Entra")
	wantErr(t, s.CreateIdP(ctx(t), &store.IdP{Name: "entra"}), store.ErrConflict)
	wantPlainErr(t, s.CreateIdP(ctx(t), &store.IdP{Name: " "}))
	wantPlainErr(t, s.CreateIdP(ctx(t), &store.IdP{Name: "x", Settings: json.RawMessage("nope")}))
	_, err := s.IdP(ctx(t), p.ID+1000)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.IdPByName(ctx(t), "okta")
	wantErr(t, err, store.ErrNotFound)
	p.ID += 1000
	wantErr(t, s.UpdateIdP(ctx(t), p), store.ErrNotFound)
	wantErr(t, s.DeleteIdP(ctx(t), p.ID), store.ErrNotFound)
}

func testIdPUpdate(t *testing.T, s store.Store) {
	p := newIdP(t, s, "okta")
	newIdP(t, s, "entra")
	p.Name, p.EntityID, p.MetadataURL, p.Metadata = "Okta EU", "urn:eu", "https://eu", "<eu/>"
	p.Settings = settings
	before := time.Now()
	must(t, s.UpdateIdP(ctx(t), p))
	got, err := s.IdP(ctx(t), p.ID)
	must(t, err)
	within(t, "UpdatedAt", got.UpdatedAt, before, time.Now())
	p.UpdatedAt = got.UpdatedAt
	equal(t, "updated IdP", got, p)
	p.Name = "ENTRA"
	wantErr(t, s.UpdateIdP(ctx(t), p), store.ErrConflict)
}

func testIdPListDelete(t *testing.T, s store.Store) {
	b, a := newIdP(t, s, "b"), newIdP(t, s, "A")
	list, err := s.ListIdPs(ctx(t))
	must(t, err)
	equal(t, "IdPs by name", list, []store.IdP{a, b})
	names, err := s.IdPNames(ctx(t))
	must(t, err)
	equal(t, "IdP names", names, []string{"A", "b"})
	must(t, s.DeleteIdP(ctx(t), a.ID))
	_, err = s.IdP(ctx(t), a.ID)
	wantErr(t, err, store.ErrNotFound)
	list, err = s.ListIdPs(ctx(t))
	must(t, err)
	equal(t, "IdPs after delete", list, []store.IdP{b})
}

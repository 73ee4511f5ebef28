package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/portcullis/portcullis/store"
)

var idpLinkTests = []test{
	{"IdPLinkCreateGet", testIdPLinkCreateGet},
	{"IdPLinkSubjectExact", testIdPLinkSubjectExact},
	{"IdPLinkConflict", testIdPLinkConflict},
	{"IdPLinksOfUser", testIdPLinksOfUser},
	{"IdPLinkDelete", testIdPLinkDelete},
	{"IdPLinkInTx", testIdPLinkInTx},
	{"UserDeleteCascadesIdPLinks", testUserDeleteCascadesIdPLinks},
	{"IdPDeleteCascadesIdPLinks", testIdPDeleteCascadesIdPLinks},
}

func newIdPLink(t *testing.T, s store.Tx, idpID int64, subject string, userID int64) store.IdPLink {
	t.Helper()
	l := store.IdPLink{IdPID: idpID, Subject: subject, UserID: userID}
	must(t, s.CreateIdPLink(ctx(t), &l))
	return l
}

// wantLink fails unless the IdP links subject to the user.
func wantLink(t *testing.T, s store.Tx, idpID int64, subject string, userID int64) {
	t.Helper()
	got, err := s.IdPLink(ctx(t), idpID, subject)
	must(t, err)
	if got.UserID != userID {
		t.Fatalf("idp %d subject %q links user %d, want %d", idpID, subject, got.UserID, userID)
	}
}

// wantNoLink fails unless the IdP links nobody by subject.
func wantNoLink(t *testing.T, s store.Tx, idpID int64, subject string) {
	t.Helper()
	_, err := s.IdPLink(ctx(t), idpID, subject)
	wantErr(t, err, store.ErrNotFound)
}

func testIdPLinkCreateGet(t *testing.T, s store.Store) {
	u, p := newUser(t, s, "a@example.com"), newIdP(t, s, "okta")
	l := store.IdPLink{IdPID: p.ID, Subject: "00u1abcd", UserID: u.ID}
	before := time.Now()
	must(t, s.CreateIdPLink(ctx(t), &l))
	within(t, "CreatedAt", l.CreatedAt, before, time.Now())
	got, err := s.IdPLink(ctx(t), p.ID, "00u1abcd")
	must(t, err)
	equal(t, "IdPLink", got, l)
	given := store.IdPLink{IdPID: p.ID, Subject: "a@example.com", UserID: u.ID, CreatedAt: ts}
	must(t, s.CreateIdPLink(ctx(t), &given))
	equal(t, "CreatedAt as given", given.CreatedAt, kept(ts))
	got, err = s.IdPLink(ctx(t), p.ID, "a@example.com")
	must(t, err)
	equal(t, "IdPLink with CreatedAt", got, given)
	wantNoLink(t, s, p.ID, "nobody")
	wantNoLink(t, s, p.ID+1000, "00u1abcd")
}

// A subject is opaque: not trimmed, not folded, and two subjects that
// differ in case alone are two subjects.
func testIdPLinkSubjectExact(t *testing.T, s store.Store) {
	a, b := newUser(t, s, "a@example.com"), newUser(t, s, "b@example.com")
	p := newIdP(t, s, "okta")
	newIdPLink(t, s, p.ID, " Alice@Example.COM ", a.ID)
	wantLink(t, s, p.ID, " Alice@Example.COM ", a.ID)
	for _, other := range []string{"Alice@Example.COM", "alice@example.com", " ALICE@EXAMPLE.COM "} {
		wantNoLink(t, s, p.ID, other)
	}
	newIdPLink(t, s, p.ID, " alice@example.com ", b.ID)
	wantLink(t, s, p.ID, " alice@example.com ", b.ID)
	wantLink(t, s, p.ID, " Alice@Example.COM ", a.ID)
}

func testIdPLinkConflict(t *testing.T, s store.Store) {
	a, b := newUser(t, s, "a@example.com"), newUser(t, s, "b@example.com")
	p, q := newIdP(t, s, "okta"), newIdP(t, s, "entra")
	newIdPLink(t, s, p.ID, "sub", a.ID)
	wantErr(t, s.CreateIdPLink(ctx(t), &store.IdPLink{IdPID: p.ID, Subject: "sub", UserID: a.ID}), store.ErrConflict)
	dup := store.IdPLink{IdPID: p.ID, Subject: "sub", UserID: b.ID}
	wantErr(t, s.CreateIdPLink(ctx(t), &dup), store.ErrConflict)
	equal(t, "CreatedAt of a refused link", dup.CreatedAt, time.Time{})
	wantLink(t, s, p.ID, "sub", a.ID)
	newIdPLink(t, s, q.ID, "sub", b.ID) // the same subject at another IdP
	wantErr(t, s.CreateIdPLink(ctx(t), &store.IdPLink{IdPID: p.ID, Subject: "x", UserID: b.ID + 1000}), store.ErrConflict)
	wantErr(t, s.CreateIdPLink(ctx(t), &store.IdPLink{IdPID: q.ID + 1000, Subject: "x", UserID: b.ID}), store.ErrConflict)
	wantPlainErr(t, s.CreateIdPLink(ctx(t), &store.IdPLink{IdPID: p.ID, Subject: "", UserID: b.ID}))
	wantNoLink(t, s, p.ID, "x")
	wantNoLink(t, s, p.ID, "")
}

func testIdPLinksOfUser(t *testing.T, s store.Store) {
	a, b := newUser(t, s, "a@example.com"), newUser(t, s, "b@example.com")
	p, q := newIdP(t, s, "okta"), newIdP(t, s, "entra")
	qb := newIdPLink(t, s, q.ID, "b", a.ID)
	pb := newIdPLink(t, s, p.ID, "b", a.ID)
	pB := newIdPLink(t, s, p.ID, "B", a.ID)
	pa := newIdPLink(t, s, p.ID, "a", a.ID)
	newIdPLink(t, s, p.ID, "other", b.ID)
	list, err := s.IdPLinksOfUser(ctx(t), a.ID)
	must(t, err)
	// By IdP ID, then subject in byte order: "B" (0x42) before "a" (0x61).
	equal(t, "links by IdP, then subject", list, []store.IdPLink{pB, pa, pb, qb})
	c := newUser(t, s, "c@example.com")
	list, err = s.IdPLinksOfUser(ctx(t), c.ID)
	must(t, err)
	equal(t, "links of a user with none", len(list), 0)
	_, err = s.IdPLinksOfUser(ctx(t), c.ID+1000)
	wantErr(t, err, store.ErrNotFound)
}

func testIdPLinkDelete(t *testing.T, s store.Store) {
	u, p := newUser(t, s, "a@example.com"), newIdP(t, s, "okta")
	newIdPLink(t, s, p.ID, "Sub", u.ID)
	keep := newIdPLink(t, s, p.ID, "keep", u.ID)
	wantErr(t, s.DeleteIdPLink(ctx(t), p.ID, "sub"), store.ErrNotFound)
	wantErr(t, s.DeleteIdPLink(ctx(t), p.ID+1000, "Sub"), store.ErrNotFound)
	wantLink(t, s, p.ID, "Sub", u.ID)
	must(t, s.DeleteIdPLink(ctx(t), p.ID, "Sub"))
	wantNoLink(t, s, p.ID, "Sub")
	wantErr(t, s.DeleteIdPLink(ctx(t), p.ID, "Sub"), store.ErrNotFound)
	list, err := s.IdPLinksOfUser(ctx(t), u.ID)
	must(t, err)
	equal(t, "links after delete", list, []store.IdPLink{keep})
	newIdPLink(t, s, p.ID, "Sub", u.ID) // a deleted subject may be linked again
}

// A just-in-time user and their link are written together or not at all,
// and a duplicate link leaves the transaction usable.
func testIdPLinkInTx(t *testing.T, s store.Store) {
	p := newIdP(t, s, "okta")
	errRollback := errors.New("rollback")
	err := s.InTx(ctx(t), func(tx store.Tx) error {
		u := newUser(t, tx, "jit@example.com")
		newIdPLink(t, tx, p.ID, "sub", u.ID)
		wantLink(t, tx, p.ID, "sub", u.ID) // reads its own writes
		return errRollback
	})
	wantErr(t, err, errRollback)
	wantNoLink(t, s, p.ID, "sub")
	var u store.User
	must(t, s.InTx(ctx(t), func(tx store.Tx) error {
		u = newUser(t, tx, "jit@example.com")
		newIdPLink(t, tx, p.ID, "sub", u.ID)
		dup := store.IdPLink{IdPID: p.ID, Subject: "sub", UserID: u.ID}
		wantErr(t, tx.CreateIdPLink(ctx(t), &dup), store.ErrConflict)
		newIdPLink(t, tx, p.ID, "sub2", u.ID)
		return nil
	}))
	wantLink(t, s, p.ID, "sub", u.ID)
	wantLink(t, s, p.ID, "sub2", u.ID)
}

func testUserDeleteCascadesIdPLinks(t *testing.T, s store.Store) {
	a, b := newUser(t, s, "a@example.com"), newUser(t, s, "b@example.com")
	p, q := newIdP(t, s, "okta"), newIdP(t, s, "entra")
	newIdPLink(t, s, p.ID, "a", a.ID)
	newIdPLink(t, s, q.ID, "a", a.ID)
	keep := newIdPLink(t, s, p.ID, "b", b.ID)
	must(t, s.DeleteUser(ctx(t), a.ID))
	wantNoLink(t, s, p.ID, "a")
	wantNoLink(t, s, q.ID, "a")
	list, err := s.IdPLinksOfUser(ctx(t), b.ID)
	must(t, err)
	equal(t, "links of the other user", list, []store.IdPLink{keep})
	newIdPLink(t, s, p.ID, "a", b.ID) // the subject is free again
}

func testIdPDeleteCascadesIdPLinks(t *testing.T, s store.Store) {
	u := newUser(t, s, "a@example.com")
	p, q := newIdP(t, s, "okta"), newIdP(t, s, "entra")
	newIdPLink(t, s, p.ID, "sub", u.ID)
	newIdPLink(t, s, p.ID, "sub2", u.ID)
	keep := newIdPLink(t, s, q.ID, "sub", u.ID)
	must(t, s.DeleteIdP(ctx(t), p.ID))
	wantNoLink(t, s, p.ID, "sub")
	wantNoLink(t, s, p.ID, "sub2")
	list, err := s.IdPLinksOfUser(ctx(t), u.ID)
	must(t, err)
	equal(t, "links after the IdP's delete", list, []store.IdPLink{keep})
	if _, err := s.User(ctx(t), u.ID); err != nil {
		t.Fatalf("user after their IdP's delete: %v", err)
	}
}

package storetest

import (
	"testing"
	"time"

	"github.com/portcullis/portcullis/store"
)

var enrolmentTests = []test{
	{"EnrolmentCreateGet", testEnrolmentCreateGet},
	{"EnrolmentNotFound", testEnrolmentNotFound},
	{"EnrolmentUpdate", testEnrolmentUpdate},
	{"EnrolmentDeleteUser", testEnrolmentDeleteUser},
	{"UserDeleteCascadesEnrolments", testUserDeleteCascadesEnrolments},
	{"EnrolledFactors", testEnrolledFactors},
}

func newEnrolment(t *testing.T, s store.Tx, userID int64, factor string) store.Enrolment {
	t.Helper()
	e := store.Enrolment{UserID: userID, Factor: factor, Name: factor, Data: []byte(factor)}
	must(t, s.CreateEnrolment(ctx(t), &e))
	return e
}

func enrolmentID(e store.Enrolment) int64 { return e.ID }

func testEnrolmentCreateGet(t *testing.T, s store.Store) {
	u := newUser(t, s, "a@example.com")
	e := store.Enrolment{UserID: u.ID, Factor: "webauthn", Name: "YubiKey",
		Data: []byte{0, 0xff, 'x', 0}, Confirmed: true, LastUsedAt: ts}
	before := time.Now()
	must(t, s.CreateEnrolment(ctx(t), &e))
	within(t, "CreatedAt", e.CreatedAt, before, time.Now())
	got, err := s.Enrolment(ctx(t), e.ID)
	must(t, err)
	equal(t, "Enrolment", got, e)
	totp := store.Enrolment{UserID: u.ID, Factor: "totp"}
	must(t, s.CreateEnrolment(ctx(t), &totp))
	list, err := s.UserEnrolments(ctx(t), u.ID)
	must(t, err)
	equal(t, "enrolments by ID", list, []store.Enrolment{e, totp})
	if list[1].Data != nil || !list[1].LastUsedAt.IsZero() {
		t.Fatalf("empty enrolment read as %+v", list[1])
	}
	other := newUser(t, s, "b@example.com")
	list, err = s.UserEnrolments(ctx(t), other.ID)
	must(t, err)
	equal(t, "enrolments of a user with none", len(list), 0)
}

func testEnrolmentNotFound(t *testing.T, s store.Store) {
	u := newUser(t, s, "a@example.com")
	e := newEnrolment(t, s, u.ID, "totp")
	wantErr(t, s.CreateEnrolment(ctx(t), &store.Enrolment{UserID: u.ID + 1000, Factor: "totp"}), store.ErrConflict)
	_, err := s.Enrolment(ctx(t), e.ID+1000)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.UserEnrolments(ctx(t), u.ID+1000)
	wantErr(t, err, store.ErrNotFound)
	e.ID += 1000
	wantErr(t, s.UpdateEnrolment(ctx(t), e), store.ErrNotFound)
	wantErr(t, s.DeleteEnrolment(ctx(t), e.ID), store.ErrNotFound)
}

func testEnrolmentUpdate(t *testing.T, s store.Store) {
	u := newUser(t, s, "a@example.com")
	e := newEnrolment(t, s, u.ID, "push")
	e.Name, e.Data, e.Confirmed, e.LastUsedAt = "Pixel", []byte("key v2"), true, ts
	must(t, s.UpdateEnrolment(ctx(t), e))
	got, err := s.Enrolment(ctx(t), e.ID)
	must(t, err)
	e.LastUsedAt = kept(ts)
	equal(t, "updated enrolment", got, e)
	e.LastUsedAt, e.Data = time.Time{}, nil
	must(t, s.UpdateEnrolment(ctx(t), e))
	got, err = s.Enrolment(ctx(t), e.ID)
	must(t, err)
	equal(t, "cleared enrolment", got, e)
	must(t, s.DeleteEnrolment(ctx(t), e.ID))
	_, err = s.Enrolment(ctx(t), e.ID)
	wantErr(t, err, store.ErrNotFound)
}

func testEnrolmentDeleteUser(t *testing.T, s store.Store) {
	a, b := newUser(t, s, "a@example.com"), newUser(t, s, "b@example.com")
	newEnrolment(t, s, a.ID, "totp")
	newEnrolment(t, s, a.ID, "webauthn")
	keep := newEnrolment(t, s, b.ID, "totp")
	n, err := s.DeleteUserEnrolments(ctx(t), a.ID)
	must(t, err)
	equal(t, "deleted", n, 2)
	n, err = s.DeleteUserEnrolments(ctx(t), a.ID)
	must(t, err)
	equal(t, "deleted again", n, 0)
	list, err := s.UserEnrolments(ctx(t), a.ID)
	must(t, err)
	equal(t, "left", len(list), 0)
	list, err = s.UserEnrolments(ctx(t), b.ID)
	must(t, err)
	equal(t, "other user's", ids(list, enrolmentID), []int64{keep.ID})
}

func testUserDeleteCascadesEnrolments(t *testing.T, s store.Store) {
	a, b := newUser(t, s, "a@example.com"), newUser(t, s, "b@example.com")
	gone := newEnrolment(t, s, a.ID, "totp")
	keep := newEnrolment(t, s, b.ID, "totp")
	must(t, s.DeleteUser(ctx(t), a.ID))
	_, err := s.Enrolment(ctx(t), gone.ID)
	wantErr(t, err, store.ErrNotFound)
	if _, err := s.Enrolment(ctx(t), keep.ID); err != nil {
		t.Fatalf("other user's enrolment: %v", err)
	}
}

// testEnrolledFactors: confirmed enrolments only, each factor once, by name;
// users without one (or unknown) have no entry.
func testEnrolledFactors(t *testing.T, s store.Store) {
	a, b, c := newUser(t, s, "a@example.com"), newUser(t, s, "b@example.com"), newUser(t, s, "c@example.com")
	for _, e := range []store.Enrolment{
		{UserID: a.ID, Factor: "webauthn", Confirmed: true},
		{UserID: a.ID, Factor: "totp", Confirmed: true},
		{UserID: a.ID, Factor: "webauthn", Name: "second key", Confirmed: true},
		{UserID: a.ID, Factor: "push"},
		{UserID: b.ID, Factor: "totp"},
		{UserID: c.ID, Factor: "push", Confirmed: true},
	} {
		must(t, s.CreateEnrolment(ctx(t), &e))
	}
	got, err := s.EnrolledFactors(ctx(t), []int64{a.ID, b.ID, c.ID, c.ID + 1000})
	must(t, err)
	equal(t, "enrolled factors", got, map[int64][]string{
		a.ID: {"totp", "webauthn"},
		c.ID: {"push"},
	})
	none, err := s.EnrolledFactors(ctx(t), nil)
	must(t, err)
	equal(t, "no users asked", len(none), 0)
}

package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/portcullis/portcullis/store"
)

var userTests = []test{
	{"UserCreateGet", testUserCreateGet},
	{"UserZeroValues", testUserZeroValues},
	{"UserCreatedAtKept", testUserCreatedAtKept},
	{"UserConflict", testUserConflict},
	{"UserNotFound", testUserNotFound},
	{"UserUpdate", testUserUpdate},
	{"UserUpdateConflict", testUserUpdateConflict},
	{"UserDelete", testUserDelete},
	{"ListUsers", testListUsers},
	{"Ping", testPing},
}

func testUserCreateGet(t *testing.T, s store.Store) {
	u := store.User{
		Email: "  Alice@Example.com ", Name: "Alice", PasswordHash: "$argon2id$v=19$x",
		Admin: true, PasswordResetRequired: true, LastLoginAt: ts,
		PasswordChangedAt: ts.Add(time.Hour),
		Attributes:        map[string]string{"dept": "eng", "städte": "Zürich <&>"},
	}
	before := time.Now()
	must(t, s.CreateUser(ctx(t), &u))
	within(t, "CreatedAt", u.CreatedAt, before, time.Now())
	if u.ID <= 0 || u.Email != "Alice@Example.com" {
		t.Fatalf("created user: ID %d, Email %q; want a positive ID and the trimmed email", u.ID, u.Email)
	}
	equal(t, "LastLoginAt", u.LastLoginAt, kept(ts))
	got, err := s.User(ctx(t), u.ID)
	must(t, err)
	equal(t, "User", got, u)
	got, err = s.UserByEmail(ctx(t), " alice@EXAMPLE.COM")
	must(t, err)
	equal(t, "UserByEmail", got, u)
}

func testUserZeroValues(t *testing.T, s store.Store) {
	u := store.User{Email: "zero@example.com"}
	must(t, s.CreateUser(ctx(t), &u))
	got, err := s.User(ctx(t), u.ID)
	must(t, err)
	if got.Attributes == nil || len(got.Attributes) != 0 {
		t.Fatalf("Attributes = %#v, want an empty map", got.Attributes)
	}
	if !got.LastLoginAt.IsZero() || !got.PasswordChangedAt.IsZero() {
		t.Fatalf("times = %v, %v; want zero", got.LastLoginAt, got.PasswordChangedAt)
	}
	equal(t, "User", got, u)
}

func testUserCreatedAtKept(t *testing.T, s store.Store) {
	u := store.User{Email: "old@example.com", CreatedAt: ts}
	must(t, s.CreateUser(ctx(t), &u))
	got, err := s.User(ctx(t), u.ID)
	must(t, err)
	equal(t, "CreatedAt", got.CreatedAt, kept(ts))
}

func testUserConflict(t *testing.T, s store.Store) {
	newUser(t, s, "bob@example.com")
	newUser(t, s, "Éva@example.com")
	for _, email := range []string{"bob@example.com", "BOB@Example.COM", " bob@example.com ", "éVA@example.com"} {
		u := store.User{Email: email}
		wantErr(t, s.CreateUser(ctx(t), &u), store.ErrConflict)
	}
	wantPlainErr(t, s.CreateUser(ctx(t), &store.User{Email: "  "}))
	_, total, err := s.ListUsers(ctx(t), store.UserFilter{})
	must(t, err)
	equal(t, "users", total, 2)
}

func testUserNotFound(t *testing.T, s store.Store) {
	u := newUser(t, s, "here@example.com")
	_, err := s.User(ctx(t), u.ID+1000)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.UserByEmail(ctx(t), "nobody@example.com")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.UpdateUser(ctx(t), store.User{ID: u.ID + 1000, Email: "x@example.com"}), store.ErrNotFound)
	wantErr(t, s.DeleteUser(ctx(t), u.ID+1000), store.ErrNotFound)
}

func testUserUpdate(t *testing.T, s store.Store) {
	u := store.User{Email: "carol@example.com", LastLoginAt: ts, Attributes: map[string]string{"a": "1"}}
	must(t, s.CreateUser(ctx(t), &u))
	created := u.CreatedAt
	u.Email, u.Name, u.PasswordHash = "CAROL@example.org", "Carol", "$argon2id$new"
	u.Disabled, u.Admin, u.PasswordResetRequired = true, true, true
	u.Attributes = map[string]string{"b": "2"}
	u.LastLoginAt, u.PasswordChangedAt = time.Time{}, ts
	u.ExternalID, u.Profile = " ext-1 ", json.RawMessage(`{"name":{"givenName":"Carol"}}`)
	u.CreatedAt, u.UpdatedAt, u.Version = ts, ts, 7 // not mutable: ignored
	before := time.Now()
	must(t, s.UpdateUser(ctx(t), u))
	got, err := s.UserByEmail(ctx(t), "carol@EXAMPLE.org")
	must(t, err)
	within(t, "UpdatedAt", got.UpdatedAt, before, time.Now())
	u.CreatedAt, u.PasswordChangedAt, u.UpdatedAt, u.Version = created, kept(ts), got.UpdatedAt, 2
	u.ExternalID = "ext-1"
	equal(t, "updated user", got, u)
	_, err = s.UserByEmail(ctx(t), "carol@example.com")
	wantErr(t, err, store.ErrNotFound)
}

func testUserUpdateConflict(t *testing.T, s store.Store) {
	a := newUser(t, s, "a@example.com")
	b := newUser(t, s, "b@example.com")
	b.Email, b.Name = "A@EXAMPLE.COM", "changed"
	wantErr(t, s.UpdateUser(ctx(t), b), store.ErrConflict)
	got, err := s.User(ctx(t), b.ID)
	must(t, err)
	equal(t, "unchanged email", got.Email, "b@example.com")
	a.Email = "A@example.com" // its own email in another case
	must(t, s.UpdateUser(ctx(t), a))
	b.Email = ""
	wantPlainErr(t, s.UpdateUser(ctx(t), b))
}

func testUserDelete(t *testing.T, s store.Store) {
	a := newUser(t, s, "a@example.com")
	b := newUser(t, s, "b@example.com")
	must(t, s.DeleteUser(ctx(t), b.ID))
	_, err := s.User(ctx(t), b.ID)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.DeleteUser(ctx(t), b.ID), store.ErrNotFound)
	if _, err := s.User(ctx(t), a.ID); err != nil {
		t.Fatalf("other user: %v", err)
	}
	// IDs are never reused: external systems keep them.
	again := newUser(t, s, "b@example.com")
	if again.ID <= b.ID {
		t.Fatalf("new ID %d after deleting %d: IDs must not be reused", again.ID, b.ID)
	}
}

func testListUsers(t *testing.T, s store.Store) {
	var all []int64
	for i := range 7 {
		u := store.User{Email: email(i), Disabled: i%3 == 0, Admin: i%2 == 0}
		must(t, s.CreateUser(ctx(t), &u))
		all = append(all, u.ID)
	}
	pick := func(is ...int) []int64 {
		out := []int64{}
		for _, i := range is {
			out = append(out, all[i])
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		f     store.UserFilter
		want  []int64
		total int
	}{
		{"all", store.UserFilter{}, pick(0, 1, 2, 3, 4, 5, 6), 7},
		{"disabled", store.UserFilter{Disabled: ptr(true)}, pick(0, 3, 6), 3},
		{"enabled", store.UserFilter{Disabled: ptr(false)}, pick(1, 2, 4, 5), 4},
		{"admins", store.UserFilter{Admin: ptr(true)}, pick(0, 2, 4, 6), 4},
		{"disabled admins", store.UserFilter{Disabled: ptr(true), Admin: ptr(true)}, pick(0, 6), 2},
		{"email", store.UserFilter{Email: "USER3@example.COM"}, pick(3), 1},
		{"email is exact", store.UserFilter{Email: "user@example.com"}, pick(), 0},
		{"limit", store.UserFilter{Limit: 3}, pick(0, 1, 2), 7},
		{"page", store.UserFilter{Offset: 2, Limit: 3}, pick(2, 3, 4), 7},
		{"offset", store.UserFilter{Offset: 5}, pick(5, 6), 7},
		{"past the end", store.UserFilter{Offset: 10, Limit: 2}, pick(), 7},
		{"filtered page", store.UserFilter{Admin: ptr(true), Offset: 1, Limit: 2}, pick(2, 4), 4},
	} {
		users, total, err := s.ListUsers(ctx(t), tc.f)
		must(t, err)
		equal(t, tc.name+": IDs", ids(users, userID), tc.want)
		equal(t, tc.name+": total", total, tc.total)
	}
}

func testPing(t *testing.T, s store.Store) {
	must(t, s.Ping(ctx(t)))
}

package storetest

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/portcullis/portcullis/store"
)

// provisioningTests cover what SCIM relies on: versions that move on with
// every change, external IDs, profiles, batch reads and row locks.
var provisioningTests = []test{
	{"UserProvisioningFields", testUserProvisioningFields},
	{"UserBadProfile", testUserBadProfile},
	{"ListUsersByExternalIDAndAfterID", testListUsersByExternalIDAndAfterID},
	{"GroupVersionMovesOnMembership", testGroupVersionMovesOnMembership},
	{"GroupUpdate", testGroupUpdate},
	{"AddRemoveMembers", testAddRemoveMembers},
	{"GroupsOfManyUsers", testGroupsOfManyUsers},
	{"GroupMembersAndGroupsOf", testGroupMembersAndGroupsOf},
	{"LockGroupSerialisesReadModifyWrite", testLockGroupSerialises},
	{"LockUserSerialisesReadModifyWrite", testLockUserSerialises},
}

func testUserProvisioningFields(t *testing.T, s store.Store) {
	u := store.User{Email: "p@example.com", ExternalID: " 00u1 ",
		Profile: json.RawMessage(`{"emails":[{"value":"p@example.com","primary":true}]}`)}
	must(t, s.CreateUser(ctx(t), &u))
	equal(t, "Version", u.Version, int64(1))
	equal(t, "UpdatedAt", u.UpdatedAt, u.CreatedAt)
	equal(t, "ExternalID", u.ExternalID, "00u1")
	got, err := s.User(ctx(t), u.ID)
	must(t, err)
	equal(t, "read back", got, u)
	locked, err := s.LockUser(ctx(t), u.ID)
	must(t, err)
	equal(t, "LockUser outside a transaction", locked, u)
	_, err = s.LockUser(ctx(t), u.ID+1000)
	wantErr(t, err, store.ErrNotFound)
	for want := int64(2); want <= 3; want++ {
		must(t, s.UpdateUser(ctx(t), got))
		got, err = s.User(ctx(t), u.ID)
		must(t, err)
		equal(t, "Version after update", got.Version, want)
	}
	got.Profile = nil
	must(t, s.UpdateUser(ctx(t), got))
	got, err = s.User(ctx(t), u.ID)
	must(t, err)
	equal(t, "cleared profile", len(got.Profile), 0)
}

func testUserBadProfile(t *testing.T, s store.Store) {
	wantPlainErr(t, s.CreateUser(ctx(t), &store.User{Email: "x@example.com", Profile: json.RawMessage(`{"a":`)}))
	u := newUser(t, s, "y@example.com")
	u.Profile = json.RawMessage(`nope`)
	wantPlainErr(t, s.UpdateUser(ctx(t), u))
	got, err := s.User(ctx(t), u.ID)
	must(t, err)
	equal(t, "unchanged version", got.Version, int64(1))
}

func testListUsersByExternalIDAndAfterID(t *testing.T, s store.Store) {
	var made []store.User
	for i, ext := range []string{"e1", "e2", "e1", ""} {
		u := store.User{Email: string(rune('a'+i)) + "@example.com", ExternalID: ext}
		must(t, s.CreateUser(ctx(t), &u))
		made = append(made, u)
	}
	got, total, err := s.ListUsers(ctx(t), store.UserFilter{ExternalID: "e1"})
	must(t, err)
	equal(t, "total", total, 2)
	equal(t, "by external ID", ids(got, userID), []int64{made[0].ID, made[2].ID})
	got, total, err = s.ListUsers(ctx(t), store.UserFilter{AfterID: made[1].ID, Limit: 1})
	must(t, err)
	equal(t, "total after", total, 2)
	equal(t, "page after", ids(got, userID), []int64{made[2].ID})
}

func testGroupVersionMovesOnMembership(t *testing.T, s store.Store) {
	u, g := newUser(t, s, "a@example.com"), newGroup(t, s, "G")
	equal(t, "created", g.Version, int64(1))
	version := func() int64 {
		t.Helper()
		got, err := s.Group(ctx(t), g.ID)
		must(t, err)
		return got.Version
	}
	in, err := s.HasMember(ctx(t), g.ID, u.ID)
	must(t, err)
	equal(t, "member before add", in, false)
	must(t, s.AddMember(ctx(t), g.ID, u.ID))
	equal(t, "after add", version(), int64(2))
	in, err = s.HasMember(ctx(t), g.ID, u.ID)
	must(t, err)
	equal(t, "member after add", in, true)
	must(t, s.AddMember(ctx(t), g.ID, u.ID))
	equal(t, "after a repeated add", version(), int64(2))
	must(t, s.RemoveMember(ctx(t), g.ID, u.ID))
	equal(t, "after remove", version(), int64(3))
	must(t, s.RemoveMember(ctx(t), g.ID, u.ID))
	equal(t, "after a repeated remove", version(), int64(3))
	wantErr(t, s.AddMember(ctx(t), g.ID, u.ID+1000), store.ErrConflict)
	equal(t, "after a failed add", version(), int64(3))
}

func testGroupUpdate(t *testing.T, s store.Store) {
	g := store.Group{Name: "Eng", ExternalID: "x1"}
	must(t, s.CreateGroup(ctx(t), &g))
	newGroup(t, s, "Ops")
	before := time.Now()
	must(t, s.UpdateGroup(ctx(t), store.Group{ID: g.ID, Name: " Engineering ", ExternalID: "x2"}))
	got, err := s.Group(ctx(t), g.ID)
	must(t, err)
	within(t, "UpdatedAt", got.UpdatedAt, before, time.Now())
	equal(t, "updated", got, store.Group{ID: g.ID, Name: "Engineering", ExternalID: "x2",
		CreatedAt: g.CreatedAt, UpdatedAt: got.UpdatedAt, Version: 2})
	wantErr(t, s.UpdateGroup(ctx(t), store.Group{ID: g.ID, Name: "ops"}), store.ErrConflict)
	wantErr(t, s.UpdateGroup(ctx(t), store.Group{ID: g.ID + 1000, Name: "Z"}), store.ErrNotFound)
	wantPlainErr(t, s.UpdateGroup(ctx(t), store.Group{ID: g.ID, Name: " "}))
	_, err = s.LockGroup(ctx(t), g.ID+1000)
	wantErr(t, err, store.ErrNotFound)
}

func testGroupMembersAndGroupsOf(t *testing.T, s store.Store) {
	a, b, c := newUser(t, s, "a@example.com"), newUser(t, s, "b@example.com"), newUser(t, s, "c@example.com")
	x, y, empty := newGroup(t, s, "x"), newGroup(t, s, "Y"), newGroup(t, s, "empty")
	for _, m := range [][2]int64{{x.ID, b.ID}, {x.ID, a.ID}, {y.ID, a.ID}} {
		must(t, s.AddMember(ctx(t), m[0], m[1]))
	}
	members, err := s.GroupMembers(ctx(t), []int64{x.ID, y.ID, empty.ID, 9999})
	must(t, err)
	equal(t, "members", members, map[int64][]store.Member{
		x.ID: {{UserID: a.ID, Email: a.Email}, {UserID: b.ID, Email: b.Email}},
		y.ID: {{UserID: a.ID, Email: a.Email}},
	})
	groups, err := s.GroupsOf(ctx(t), []int64{a.ID, b.ID, c.ID})
	must(t, err)
	equal(t, "groups of a", ids(groups[a.ID], groupID), []int64{x.ID, y.ID})
	equal(t, "groups of b", ids(groups[b.ID], groupID), []int64{x.ID})
	equal(t, "users without groups", len(groups[c.ID]), 0)
	none, err := s.GroupMembers(ctx(t), nil)
	must(t, err)
	equal(t, "no groups asked", len(none), 0)
}

// testLockGroupSerialises has several transactions each read a group's
// external ID and append to it: with the lock none of the appends is lost.
func testLockGroupSerialises(t *testing.T, s store.Store) {
	g := newGroup(t, s, "G")
	appendAll(t, 4, func(i int) error {
		return s.InTx(ctx(t), func(tx store.Tx) error {
			got, err := tx.LockGroup(ctx(t), g.ID)
			if err != nil {
				return err
			}
			time.Sleep(20 * time.Millisecond) // widen the window a lost update needs
			got.ExternalID += "x"
			return tx.UpdateGroup(ctx(t), got)
		})
	})
	got, err := s.Group(ctx(t), g.ID)
	must(t, err)
	equal(t, "external ID after concurrent appends", got.ExternalID, "xxxx")
}

func testLockUserSerialises(t *testing.T, s store.Store) {
	u := newUser(t, s, "u@example.com")
	appendAll(t, 4, func(i int) error {
		return s.InTx(ctx(t), func(tx store.Tx) error {
			got, err := tx.LockUser(ctx(t), u.ID)
			if err != nil {
				return err
			}
			time.Sleep(20 * time.Millisecond)
			got.Name += "x"
			return tx.UpdateUser(ctx(t), got)
		})
	})
	got, err := s.User(ctx(t), u.ID)
	must(t, err)
	equal(t, "name after concurrent appends", got.Name, "xxxx")
	equal(t, "version", got.Version, int64(5))
}

// appendAll runs fn n times concurrently and fails on any error.
func appendAll(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() { errs <- fn(i) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
}

func testAddRemoveMembers(t *testing.T, s store.Store) {
	a, b, c := newUser(t, s, "a@example.com"), newUser(t, s, "b@example.com"), newUser(t, s, "c@example.com")
	g := newGroup(t, s, "G")
	must(t, s.AddMember(ctx(t), g.ID, b.ID))
	added, err := s.AddMembers(ctx(t), g.ID, []int64{c.ID, b.ID, 9999, a.ID, c.ID})
	must(t, err)
	equal(t, "added", added, []int64{c.ID, a.ID})
	got, _ := s.Group(ctx(t), g.ID)
	equal(t, "version after one batch", got.Version, int64(3))
	none, err := s.AddMembers(ctx(t), g.ID, []int64{a.ID})
	must(t, err)
	equal(t, "added again", len(none), 0)
	got, _ = s.Group(ctx(t), g.ID)
	equal(t, "version after a batch that changed nothing", got.Version, int64(3))
	removed, err := s.RemoveMembers(ctx(t), g.ID, []int64{a.ID, 9999, b.ID})
	must(t, err)
	equal(t, "removed", removed, []int64{a.ID, b.ID})
	members, err := s.Members(ctx(t), g.ID)
	must(t, err)
	equal(t, "left", ids(members, userID), []int64{c.ID})
	_, err = s.AddMembers(ctx(t), g.ID+1000, []int64{a.ID})
	wantErr(t, err, store.ErrNotFound)
	// More than one statement's worth, inside a transaction.
	var many []int64
	must(t, s.InTx(ctx(t), func(tx store.Tx) error {
		for i := range 1200 {
			u := store.User{Email: fmt.Sprintf("m%d@example.com", i)}
			if err := tx.CreateUser(ctx(t), &u); err != nil {
				return err
			}
			many = append(many, u.ID)
		}
		added, err := tx.AddMembers(ctx(t), g.ID, many)
		equal(t, "added in chunks", len(added), len(many))
		return err
	}))
	members, _ = s.Members(ctx(t), g.ID)
	equal(t, "members after chunks", len(members), 1201)
}

// testGroupsOfManyUsers asks for the groups of many users close together
// (read as one range) but not all of them: those not asked for must not
// come back.
func testGroupsOfManyUsers(t *testing.T, s store.Store) {
	g, h := newGroup(t, s, "g"), newGroup(t, s, "h")
	var asked []int64
	var skipped int64
	must(t, s.InTx(ctx(t), func(tx store.Tx) error {
		for i := range 100 {
			u := store.User{Email: fmt.Sprintf("u%d@example.com", i)}
			if err := tx.CreateUser(ctx(t), &u); err != nil {
				return err
			}
			if err := tx.AddMember(ctx(t), g.ID, u.ID); err != nil {
				return err
			}
			if i%2 == 0 {
				if err := tx.AddMember(ctx(t), h.ID, u.ID); err != nil {
					return err
				}
			}
			if i == 50 {
				skipped = u.ID
				continue
			}
			asked = append(asked, u.ID)
		}
		return nil
	}))
	got, err := s.GroupsOf(ctx(t), asked)
	must(t, err)
	equal(t, "users with groups", len(got), len(asked))
	if _, ok := got[skipped]; ok {
		t.Fatalf("GroupsOf returned user %d, who was not asked for", skipped)
	}
	equal(t, "groups of the first", ids(got[asked[0]], groupID), []int64{g.ID, h.ID})
	equal(t, "groups of the second", ids(got[asked[1]], groupID), []int64{g.ID})
}

package storetest

import (
	"testing"
	"time"

	"github.com/portcullis/portcullis/store"
)

var groupTests = []test{
	{"GroupCreateGet", testGroupCreateGet},
	{"GroupConflict", testGroupConflict},
	{"GroupNotFound", testGroupNotFound},
	{"GroupList", testGroupList},
	{"GroupRename", testGroupRename},
	{"GroupMembers", testGroupMembers},
	{"GroupMemberMissing", testGroupMemberMissing},
	{"GroupDeleteCascades", testGroupDeleteCascades},
	{"UserDeleteCascadesMemberships", testUserDeleteCascadesMemberships},
}

func groupID(g store.Group) int64 { return g.ID }

func testGroupCreateGet(t *testing.T, s store.Store) {
	g := store.Group{Name: " Engineering "}
	before := time.Now()
	must(t, s.CreateGroup(ctx(t), &g))
	within(t, "CreatedAt", g.CreatedAt, before, time.Now())
	equal(t, "name", g.Name, "Engineering")
	got, err := s.Group(ctx(t), g.ID)
	must(t, err)
	equal(t, "Group", got, g)
	got, err = s.GroupByName(ctx(t), "ENGINEERING")
	must(t, err)
	equal(t, "GroupByName", got, g)
}

func testGroupConflict(t *testing.T, s store.Store) {
	newGroup(t, s, "Sales")
	wantErr(t, s.CreateGroup(ctx(t), &store.Group{Name: "sALES"}), store.ErrConflict)
	wantPlainErr(t, s.CreateGroup(ctx(t), &store.Group{Name: " "}))
	groups, err := s.ListGroups(ctx(t))
	must(t, err)
	equal(t, "groups", len(groups), 1)
}

func testGroupNotFound(t *testing.T, s store.Store) {
	g := newGroup(t, s, "Ops")
	_, err := s.Group(ctx(t), g.ID+1000)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GroupByName(ctx(t), "Dev")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.RenameGroup(ctx(t), g.ID+1000, "Dev"), store.ErrNotFound)
	wantErr(t, s.DeleteGroup(ctx(t), g.ID+1000), store.ErrNotFound)
	_, err = s.Members(ctx(t), g.ID+1000)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.UserGroups(ctx(t), 12345)
	wantErr(t, err, store.ErrNotFound)
}

func testGroupList(t *testing.T, s store.Store) {
	var want []string
	for _, n := range []string{"beta", "Alpha", "gamma", "alpha-2"} {
		newGroup(t, s, n)
	}
	want = []string{"Alpha", "alpha-2", "beta", "gamma"}
	groups, err := s.ListGroups(ctx(t))
	must(t, err)
	var got []string
	for _, g := range groups {
		got = append(got, g.Name)
	}
	equal(t, "names in order", got, want)
}

func testGroupRename(t *testing.T, s store.Store) {
	g := newGroup(t, s, "Dev")
	newGroup(t, s, "Ops")
	must(t, s.RenameGroup(ctx(t), g.ID, "Developers"))
	got, err := s.GroupByName(ctx(t), "developers")
	must(t, err)
	equal(t, "renamed", got, store.Group{ID: g.ID, Name: "Developers", CreatedAt: g.CreatedAt,
		UpdatedAt: got.UpdatedAt, Version: 2})
	_, err = s.GroupByName(ctx(t), "Dev")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.RenameGroup(ctx(t), g.ID, "OPS"), store.ErrConflict)
	must(t, s.RenameGroup(ctx(t), g.ID, "DEVELOPERS")) // its own name in another case
	wantPlainErr(t, s.RenameGroup(ctx(t), g.ID, ""))
}

func testGroupMembers(t *testing.T, s store.Store) {
	a, b, c := newUser(t, s, "a@example.com"), newUser(t, s, "b@example.com"), newUser(t, s, "c@example.com")
	zeta, eta := newGroup(t, s, "zeta"), newGroup(t, s, "Eta")
	for _, m := range [][2]int64{{zeta.ID, b.ID}, {zeta.ID, a.ID}, {zeta.ID, a.ID}, {eta.ID, a.ID}} {
		must(t, s.AddMember(ctx(t), m[0], m[1])) // the repeat is not an error
	}
	members, err := s.Members(ctx(t), zeta.ID)
	must(t, err)
	equal(t, "members by ID", members, []store.User{a, b})
	groups, err := s.UserGroups(ctx(t), a.ID)
	must(t, err)
	equal(t, "groups by name", ids(groups, groupID), []int64{eta.ID, zeta.ID})
	none, err := s.UserGroups(ctx(t), c.ID)
	must(t, err)
	equal(t, "groups of a non-member", len(none), 0)
	must(t, s.RemoveMember(ctx(t), zeta.ID, a.ID))
	must(t, s.RemoveMember(ctx(t), zeta.ID, a.ID)) // idempotent
	must(t, s.RemoveMember(ctx(t), zeta.ID, c.ID)) // never a member
	members, err = s.Members(ctx(t), zeta.ID)
	must(t, err)
	equal(t, "members after removal", ids(members, userID), []int64{b.ID})
}

func testGroupMemberMissing(t *testing.T, s store.Store) {
	u, g := newUser(t, s, "a@example.com"), newGroup(t, s, "G")
	wantErr(t, s.AddMember(ctx(t), g.ID, u.ID+1000), store.ErrConflict)
	wantErr(t, s.AddMember(ctx(t), g.ID+1000, u.ID), store.ErrConflict)
	members, err := s.Members(ctx(t), g.ID)
	must(t, err)
	equal(t, "members", len(members), 0)
}

func testGroupDeleteCascades(t *testing.T, s store.Store) {
	u, g, other := newUser(t, s, "a@example.com"), newGroup(t, s, "Gone"), newGroup(t, s, "Kept")
	must(t, s.AddMember(ctx(t), g.ID, u.ID))
	must(t, s.AddMember(ctx(t), other.ID, u.ID))
	must(t, s.DeleteGroup(ctx(t), g.ID))
	_, err := s.Group(ctx(t), g.ID)
	wantErr(t, err, store.ErrNotFound)
	groups, err := s.UserGroups(ctx(t), u.ID)
	must(t, err)
	equal(t, "groups left", ids(groups, groupID), []int64{other.ID})
	again := newGroup(t, s, "gone")
	members, err := s.Members(ctx(t), again.ID)
	must(t, err)
	equal(t, "members of a new group of the same name", len(members), 0)
}

func testUserDeleteCascadesMemberships(t *testing.T, s store.Store) {
	a, b, g := newUser(t, s, "a@example.com"), newUser(t, s, "b@example.com"), newGroup(t, s, "G")
	must(t, s.AddMember(ctx(t), g.ID, a.ID))
	must(t, s.AddMember(ctx(t), g.ID, b.ID))
	must(t, s.DeleteUser(ctx(t), a.ID))
	members, err := s.Members(ctx(t), g.ID)
	must(t, err)
	equal(t, "members left", ids(members, userID), []int64{b.ID})
}

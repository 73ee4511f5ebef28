package storetest

import (
	"testing"
	"time"

	"github.com/portcullis/portcullis/store"
)

var folderTests = []test{
	{"FolderCreateGet", testFolderCreateGet},
	{"FolderConflict", testFolderConflict},
	{"FolderNotFound", testFolderNotFound},
	{"FolderCreateMissingMember", testFolderCreateMissingMember},
	{"FolderShare", testFolderShare},
	{"FolderShareMissing", testFolderShareMissing},
	{"FolderApps", testFolderApps},
	{"FolderList", testFolderList},
	{"FolderCascades", testFolderCascades},
}

func member(k store.MemberKind, id int64) store.FolderMember {
	return store.FolderMember{Kind: k, ID: id}
}

func testFolderCreateGet(t *testing.T, s store.Store) {
	u1, u2, g := newUser(t, s, "a@example.com"), newUser(t, s, "b@example.com"), newGroup(t, s, "G")
	a1, a2 := newApp(t, s, "wiki"), newApp(t, s, "grafana")
	f := store.Folder{
		Name: " Shared-Ops ",
		Members: []store.FolderMember{
			{Kind: store.MemberUser, ID: u2.ID, ReadOnly: true},
			{Kind: store.MemberUser, ID: u1.ID, Give: true, CanAdminister: true},
			{Kind: store.MemberGroup, ID: g.ID, ReadOnly: true, Give: true},
		},
		AppIDs: []int64{a2.ID, a1.ID},
	}
	before := time.Now()
	must(t, s.CreateFolder(ctx(t), &f))
	within(t, "CreatedAt", f.CreatedAt, before, time.Now())
	want := store.Folder{
		ID: f.ID, Name: "Shared-Ops", CreatedAt: f.CreatedAt,
		Members: []store.FolderMember{ // groups before users, each by ID
			{Kind: store.MemberGroup, ID: g.ID, ReadOnly: true, Give: true},
			{Kind: store.MemberUser, ID: u1.ID, Give: true, CanAdminister: true},
			{Kind: store.MemberUser, ID: u2.ID, ReadOnly: true},
		},
		AppIDs: []int64{a1.ID, a2.ID},
	}
	equal(t, "created folder", f, want)
	got, err := s.Folder(ctx(t), f.ID)
	must(t, err)
	equal(t, "Folder", got, want)
	got, err = s.FolderByName(ctx(t), "shared-OPS")
	must(t, err)
	equal(t, "FolderByName", got, want)
}

func testFolderConflict(t *testing.T, s store.Store) {
	must(t, s.CreateFolder(ctx(t), &store.Folder{Name: "Finance"}))
	wantErr(t, s.CreateFolder(ctx(t), &store.Folder{Name: "FINANCE"}), store.ErrConflict)
	wantPlainErr(t, s.CreateFolder(ctx(t), &store.Folder{Name: ""}))
}

func testFolderNotFound(t *testing.T, s store.Store) {
	f := store.Folder{Name: "F"}
	must(t, s.CreateFolder(ctx(t), &f))
	_, err := s.Folder(ctx(t), f.ID+1000)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.FolderByName(ctx(t), "G")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.DeleteFolder(ctx(t), f.ID+1000), store.ErrNotFound)
}

// A folder whose member or app does not exist is not created at all, even
// outside a transaction.
func testFolderCreateMissingMember(t *testing.T, s store.Store) {
	u, a := newUser(t, s, "a@example.com"), newApp(t, s, "wiki")
	for name, f := range map[string]store.Folder{
		"missing user":  {Name: "F", Members: []store.FolderMember{member(store.MemberUser, u.ID), member(store.MemberUser, u.ID+1000)}},
		"missing group": {Name: "F", Members: []store.FolderMember{member(store.MemberGroup, 1000)}},
		"missing app":   {Name: "F", AppIDs: []int64{a.ID, a.ID + 1000}},
	} {
		wantErr(t, s.CreateFolder(ctx(t), &f), store.ErrConflict)
		if _, err := s.FolderByName(ctx(t), "F"); err == nil {
			t.Fatalf("%s: folder created anyway", name)
		}
	}
}

func testFolderShare(t *testing.T, s store.Store) {
	u, g := newUser(t, s, "a@example.com"), newGroup(t, s, "G")
	f := store.Folder{Name: "F"}
	must(t, s.CreateFolder(ctx(t), &f))
	must(t, s.ShareFolder(ctx(t), f.ID, store.FolderMember{Kind: store.MemberUser, ID: u.ID, ReadOnly: true}))
	must(t, s.ShareFolder(ctx(t), f.ID, store.FolderMember{Kind: store.MemberGroup, ID: g.ID}))
	updated := store.FolderMember{Kind: store.MemberUser, ID: u.ID, Give: true, CanAdminister: true}
	must(t, s.ShareFolder(ctx(t), f.ID, updated)) // updates, does not add
	got, err := s.Folder(ctx(t), f.ID)
	must(t, err)
	equal(t, "members", got.Members, []store.FolderMember{member(store.MemberGroup, g.ID), updated})
	must(t, s.UnshareFolder(ctx(t), f.ID, store.MemberGroup, g.ID))
	must(t, s.UnshareFolder(ctx(t), f.ID, store.MemberGroup, g.ID)) // idempotent
	must(t, s.UnshareFolder(ctx(t), f.ID, store.MemberGroup, u.ID)) // a user's ID, as a group
	got, err = s.Folder(ctx(t), f.ID)
	must(t, err)
	equal(t, "members after unshare", got.Members, []store.FolderMember{updated})
	wantPlainErr(t, s.ShareFolder(ctx(t), f.ID, store.FolderMember{Kind: "robot", ID: u.ID}))
	wantPlainErr(t, s.UnshareFolder(ctx(t), f.ID, "robot", u.ID))
}

func testFolderShareMissing(t *testing.T, s store.Store) {
	u, g := newUser(t, s, "a@example.com"), newGroup(t, s, "G")
	f := store.Folder{Name: "F"}
	must(t, s.CreateFolder(ctx(t), &f))
	wantErr(t, s.ShareFolder(ctx(t), f.ID, member(store.MemberUser, u.ID+1000)), store.ErrConflict)
	wantErr(t, s.ShareFolder(ctx(t), f.ID, member(store.MemberGroup, g.ID+1000)), store.ErrConflict)
	wantErr(t, s.ShareFolder(ctx(t), f.ID+1000, member(store.MemberUser, u.ID)), store.ErrConflict)
	got, err := s.Folder(ctx(t), f.ID)
	must(t, err)
	equal(t, "members", len(got.Members), 0)
}

func testFolderApps(t *testing.T, s store.Store) {
	a, b := newApp(t, s, "a"), newApp(t, s, "b")
	f := store.Folder{Name: "F"}
	must(t, s.CreateFolder(ctx(t), &f))
	must(t, s.AddFolderApp(ctx(t), f.ID, b.ID))
	must(t, s.AddFolderApp(ctx(t), f.ID, a.ID))
	must(t, s.AddFolderApp(ctx(t), f.ID, a.ID)) // idempotent
	wantErr(t, s.AddFolderApp(ctx(t), f.ID, b.ID+1000), store.ErrConflict)
	wantErr(t, s.AddFolderApp(ctx(t), f.ID+1000, a.ID), store.ErrConflict)
	got, err := s.Folder(ctx(t), f.ID)
	must(t, err)
	equal(t, "apps", got.AppIDs, []int64{a.ID, b.ID})
	must(t, s.RemoveFolderApp(ctx(t), f.ID, a.ID))
	must(t, s.RemoveFolderApp(ctx(t), f.ID, a.ID)) // idempotent
	got, err = s.Folder(ctx(t), f.ID)
	must(t, err)
	equal(t, "apps after removal", got.AppIDs, []int64{b.ID})
}

func testFolderList(t *testing.T, s store.Store) {
	u, a := newUser(t, s, "a@example.com"), newApp(t, s, "wiki")
	var want []store.Folder
	for _, f := range []store.Folder{
		{Name: "zeta", Members: []store.FolderMember{member(store.MemberUser, u.ID)}},
		{Name: "alpha", AppIDs: []int64{a.ID}},
		{Name: "empty"},
	} {
		must(t, s.CreateFolder(ctx(t), &f))
		want = append(want, f)
	}
	got, err := s.ListFolders(ctx(t))
	must(t, err)
	equal(t, "folders by ID with contents", got, want)
}

// Deleting a user, group or app removes it from folders, and only it: a user
// and a group with the same ID are different members.
func testFolderCascades(t *testing.T, s store.Store) {
	u, g := newUser(t, s, "a@example.com"), newGroup(t, s, "G")
	for u.ID < g.ID {
		u = newUser(t, s, email(int(u.ID)))
	}
	for g.ID < u.ID {
		g = newGroup(t, s, email(int(g.ID)))
	}
	keep, drop := newApp(t, s, "keep"), newApp(t, s, "drop")
	f := store.Folder{Name: "F", Members: []store.FolderMember{member(store.MemberUser, u.ID),
		member(store.MemberGroup, g.ID)}, AppIDs: []int64{keep.ID, drop.ID}}
	must(t, s.CreateFolder(ctx(t), &f))
	must(t, s.DeleteUser(ctx(t), u.ID))
	must(t, s.DeleteApp(ctx(t), drop.ID))
	got, err := s.Folder(ctx(t), f.ID)
	must(t, err)
	equal(t, "members after deleting the user", got.Members, []store.FolderMember{member(store.MemberGroup, g.ID)})
	equal(t, "apps after deleting one", got.AppIDs, []int64{keep.ID})
	must(t, s.DeleteGroup(ctx(t), g.ID))
	got, err = s.Folder(ctx(t), f.ID)
	must(t, err)
	equal(t, "members after deleting the group", len(got.Members), 0)
	must(t, s.DeleteFolder(ctx(t), f.ID))
	_, err = s.Folder(ctx(t), f.ID)
	wantErr(t, err, store.ErrNotFound)
	if _, err := s.App(ctx(t), keep.ID); err != nil {
		t.Fatalf("app of a deleted folder: %v", err)
	}
}

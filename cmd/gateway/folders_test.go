package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/enterprise"
	"github.com/portcullis/portcullis/store"
)

func TestFoldersUsageErrors(t *testing.T) {
	e := dataEnv(t)
	wantUsageErrors(t, e, []usageCase{
		{[]string{"folders"}, "subcommand"},
		{[]string{"folders", "frob"}, "unknown folders subcommand"},
		{[]string{"folders", "add"}, "one folder name"},
		{[]string{"folders", "add", "a", "b"}, "one folder name"},
		{[]string{"folders", "list", "extra"}, "no arguments"},
		{[]string{"folders", "share", "F"}, "either --user EMAIL or --group NAME"},
		{[]string{"folders", "share", "--user", "a@example.com"}, "one folder name"},
		{[]string{"folders", "share", "F", "--user", "a@example.com", "--group", "g"}, "either --user"},
		{[]string{"folders", "share", "F", "--group", "g", "--write"}, "-write"},
		{[]string{"folders", "unshare", "F", "--user", "a@example.com", "--readonly"}, "-readonly"},
		{[]string{"folders", "apps"}, "one folder name"},
		{[]string{"folders", "apps", "F", "--add"}, "-add"},
	})
	if out := mustRun(t, e, "", "folders", "list").stdout; out != "No folders.\n" {
		t.Errorf("usage errors wrote folders: %q", out)
	}
}

func TestFolders(t *testing.T) {
	e := dataEnv(t)
	mustRun(t, e, "", "groups", "add", "eng")
	mustRun(t, e, "", "users", "add", "ann@example.com")
	mustRun(t, e, "", "users", "add", "ben@example.com", "--group", "eng")
	mustRun(t, e, "", "apps", "add", "wiki", "--metadata", filepath.Join("testdata", "sp.xml"))
	mustRun(t, e, "", "apps", "add", "grafana", "--metadata", writeSP(t, "https://grafana.example.com"))

	var f folderView
	decode(t, mustRun(t, e, "", "folders", "add", "Engineering", "--json").stdout, &f)
	if f.ID == 0 || f.Name != "Engineering" || len(f.Apps) != 0 || len(f.Members) != 0 {
		t.Fatalf("added %+v", f)
	}
	if r := gw(t, e, "", "folders", "add", "engineering"); r.code != 1 || !strings.Contains(r.stderr, `a folder named "engineering" already exists`) {
		t.Errorf("duplicate folder: %+v", r)
	}

	// Apps: all or nothing, idempotent.
	if r := gw(t, e, "", "folders", "apps", "Engineering", "--add", "wiki", "--add", "nope"); r.code != 1 ||
		!strings.Contains(r.stderr, `app "nope" does not exist`) {
		t.Errorf("unknown app: %+v", r)
	}
	decode(t, mustRun(t, e, "", "folders", "apps", "engineering", "--add", "wiki", "--add", "grafana", "--json").stdout, &f)
	if !slices.Equal(f.Apps, []string{"wiki", "grafana"}) {
		t.Fatalf("apps %v", f.Apps)
	}
	if out := mustRun(t, e, "", "folders", "apps", "Engineering", "--add", "wiki").stdout; out != "Folder Engineering holds: wiki, grafana\n" {
		t.Errorf("apps again: %q", out)
	}
	if r := gw(t, e, "", "folders", "apps", "Nope"); r.code != 1 || !strings.Contains(r.stderr, `folder "Nope" does not exist`) {
		t.Errorf("apps of an unknown folder: %+v", r)
	}

	// Shares: with a group and a user, rights changed in place.
	if out := mustRun(t, e, "", "folders", "share", "Engineering", "--group", "ENG", "--readonly").stdout; out !=
		"Folder Engineering shared with group eng (read-only).\n" {
		t.Errorf("share with a group said %q", out)
	}
	var change map[string]any
	decode(t, mustRun(t, e, "", "folders", "share", "Engineering", "--user", "ann@example.com", "--give", "--admin", "--json").stdout, &change)
	if change["changed"] != true || change["action"] != "share" || change["kind"] != "user" || change["name"] != "ann@example.com" {
		t.Errorf("share --json = %v", change)
	}
	decode(t, mustRun(t, e, "", "folders", "share", "Engineering", "--user", "ann@example.com", "--give", "--admin", "--json").stdout, &change)
	if change["changed"] != false {
		t.Errorf("the same share again changed: %v", change)
	}
	if out := mustRun(t, e, "", "folders", "share", "Engineering", "--user", "ann@example.com", "--give").stdout; out !=
		"Folder Engineering shared with user ann@example.com (give).\n" {
		t.Errorf("new rights said %q", out)
	}
	for args, want := range map[string]string{
		"Engineering --user zed@example.com": "user zed@example.com does not exist",
		"Engineering --group ops":            `group "ops" does not exist`,
		"Nope --group eng":                   `folder "Nope" does not exist`,
	} {
		if r := gw(t, e, "", append([]string{"folders", "share"}, strings.Fields(args)...)...); r.code != 1 ||
			!strings.Contains(r.stderr, want) {
			t.Errorf("share %s: %+v", args, r)
		}
	}

	var list []folderView
	decode(t, mustRun(t, e, "", "folders", "list", "--json").stdout, &list)
	want := []folderMemberView{{Kind: "group", Name: "eng", ReadOnly: true}, {Kind: "user", Name: "ann@example.com", Give: true}}
	if len(list) != 1 || !slices.Equal(list[0].Members, want) || !slices.Equal(list[0].Apps, []string{"wiki", "grafana"}) {
		t.Fatalf("list = %+v", list)
	}
	if out := mustRun(t, e, "", "folders", "list").stdout; !strings.Contains(out, "wiki, grafana") ||
		!strings.Contains(out, "group eng (read-only); user ann@example.com (give)") {
		t.Errorf("folders list:\n%s", out)
	}

	// Unshare and take an app out.
	if out := mustRun(t, e, "", "folders", "unshare", "Engineering", "--group", "eng").stdout; out !=
		"Folder Engineering no longer shared with group eng.\n" {
		t.Errorf("unshare said %q", out)
	}
	if out := mustRun(t, e, "", "folders", "unshare", "Engineering", "--group", "eng").stdout; out !=
		"Folder Engineering was not shared with group eng.\n" {
		t.Errorf("unshare again said %q", out)
	}
	decode(t, mustRun(t, e, "", "folders", "apps", "Engineering", "--remove", "grafana", "--remove", "grafana", "--json").stdout, &f)
	if !slices.Equal(f.Apps, []string{"wiki"}) || len(f.Members) != 1 {
		t.Fatalf("after unshare and remove: %+v", f)
	}

	for typ, n := range map[string]int{enterprise.EventFolderCreated: 1, enterprise.EventFolderAppAdded: 2,
		enterprise.EventFolderAppRemoved: 1, enterprise.EventFolderShared: 3, enterprise.EventFolderUnshared: 1} {
		if got := eventCount(t, e, typ); got != n {
			t.Errorf("%d %s events, want %d", got, typ, n)
		}
	}
	events, err := openEnvStore(t, e).ListEvents(t.Context(), store.EventFilter{Types: []string{enterprise.EventFolderShared}})
	if err != nil || events[0].Actor != "cli" || events[0].Subject != "Engineering" || events[0].Details["user"] != "ann@example.com" ||
		events[0].Details["give"] != "1" || events[0].Details["can_administer"] != "0" {
		t.Errorf("newest share event: %+v (%v)", events[0], err)
	}
}

func TestFoldersWarnAboutAppsTheyCannotOpen(t *testing.T) {
	e := dataEnv(t)
	mustRun(t, e, "", "folders", "add", "Proxies")
	if err := openEnvStore(t, e).CreateApp(t.Context(), &store.App{Name: "grafana", Kind: store.AppForwardAuth}); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, e, "", "folders", "apps", "Proxies", "--add", "grafana")
	if !strings.Contains(r.stderr, "warning: app grafana is not a SAML app") {
		t.Errorf("stderr %q", r.stderr)
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/enterprise"
	"github.com/portcullis/portcullis/store"
)

// folders manages shared folders: collections of apps shared with users
// and groups, who may then use every app in them (package idp). The
// Enterprise API reports them (getsfdata) and adds to them
// (pushsitestousers); each change here is one transaction with its audit
// event, of the types package enterprise records.
func (c *cli) folders(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("folders needs a subcommand: add, list, share, unshare, apps")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "add":
		return c.foldersAdd(ctx, rest)
	case "list":
		return c.foldersList(ctx, rest)
	case "share":
		return c.foldersShare(ctx, rest, true)
	case "unshare":
		return c.foldersShare(ctx, rest, false)
	case "apps":
		return c.foldersApps(ctx, rest)
	default:
		return usagef("unknown folders subcommand %q", sub)
	}
}

// folderView is a folder as the CLI prints it.
type folderView struct {
	ID      int64              `json:"id"`
	Name    string             `json:"name"`
	Apps    []string           `json:"apps"`
	Members []folderMemberView `json:"members"`
}

type folderMemberView struct {
	Kind          string `json:"kind"` // user or group
	Name          string `json:"name"` // email or group name
	ReadOnly      bool   `json:"readonly"`
	Give          bool   `json:"give"`
	CanAdminister bool   `json:"can_administer"`
}

func (m folderMemberView) String() string {
	var rights []string
	for _, r := range []struct {
		on   bool
		name string
	}{{m.ReadOnly, "read-only"}, {m.Give, "give"}, {m.CanAdminister, "admin"}} {
		if r.on {
			rights = append(rights, r.name)
		}
	}
	s := m.Kind + " " + m.Name
	if len(rights) > 0 {
		s += " (" + strings.Join(rights, ", ") + ")"
	}
	return s
}

// folderNames resolves the IDs folders refer to, reading each once.
type folderNames struct {
	tx     store.Tx
	apps   map[int64]string
	groups map[int64]string
	users  map[int64]string
}

func newFolderNames(ctx context.Context, tx store.Tx) (*folderNames, error) {
	n := &folderNames{tx: tx, apps: map[int64]string{}, groups: map[int64]string{}, users: map[int64]string{}}
	apps, err := tx.ListApps(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range apps {
		n.apps[a.ID] = a.Name
	}
	groups, err := tx.ListGroups(ctx)
	for _, g := range groups {
		n.groups[g.ID] = g.Name
	}
	return n, err
}

func (n *folderNames) view(ctx context.Context, f store.Folder) (folderView, error) {
	v := folderView{ID: f.ID, Name: f.Name, Apps: []string{}, Members: []folderMemberView{}}
	for _, id := range f.AppIDs {
		v.Apps = append(v.Apps, n.apps[id])
	}
	for _, m := range f.Members {
		name := n.groups[m.ID]
		if m.Kind == store.MemberUser {
			if _, ok := n.users[m.ID]; !ok {
				u, err := n.tx.User(ctx, m.ID)
				if err != nil {
					return v, err
				}
				n.users[m.ID] = u.Email
			}
			name = n.users[m.ID]
		}
		v.Members = append(v.Members, folderMemberView{Kind: string(m.Kind), Name: name,
			ReadOnly: m.ReadOnly, Give: m.Give, CanAdminister: m.CanAdminister})
	}
	return v, nil
}

// viewFolder reads a folder by name and what it refers to.
func viewFolder(ctx context.Context, tx store.Tx, name string) (folderView, error) {
	f, err := tx.FolderByName(ctx, name)
	if err != nil {
		return folderView{}, notFound(err, fmt.Sprintf("folder %q", name))
	}
	n, err := newFolderNames(ctx, tx)
	if err != nil {
		return folderView{}, err
	}
	return n.view(ctx, f)
}

func (c *cli) foldersAdd(ctx context.Context, args []string) error {
	fs := c.flags("folders add")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || strings.TrimSpace(pos[0]) == "" {
		return usagef("folders add needs one folder name")
	}
	st, _, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	f := store.Folder{Name: strings.TrimSpace(pos[0])}
	err = st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateFolder(ctx, &f); err != nil {
			return err
		}
		return tx.Record(ctx, &audit.Event{Type: enterprise.EventFolderCreated, Actor: "cli", Subject: f.Name,
			Outcome: audit.Success})
	})
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("a folder named %q already exists", f.Name)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return c.printJSON(folderView{ID: f.ID, Name: f.Name, Apps: []string{}, Members: []folderMemberView{}})
	}
	fmt.Fprintf(c.stdout, "Folder %s created (id %d).\n", f.Name, f.ID)
	return nil
}

func (c *cli) foldersList(ctx context.Context, args []string) error {
	return runListing(ctx, c, args, listing[folderView]{
		name:   "folders list",
		header: []string{"ID", "NAME", "APPS", "SHARED WITH"},
		empty:  "No folders.",
		load: func(ctx context.Context, st store.Store, _ *config.Config) ([]folderView, error) {
			folders, err := st.ListFolders(ctx)
			if err != nil {
				return nil, err
			}
			n, err := newFolderNames(ctx, st)
			if err != nil {
				return nil, err
			}
			views := make([]folderView, 0, len(folders))
			for _, f := range folders {
				v, err := n.view(ctx, f)
				if err != nil {
					return nil, err
				}
				views = append(views, v)
			}
			return views, nil
		},
		row: func(v folderView) []string {
			members := make([]string, 0, len(v.Members))
			for _, m := range v.Members {
				members = append(members, m.String())
			}
			return []string{strconv.FormatInt(v.ID, 10), v.Name, orDash(strings.Join(v.Apps, ", ")),
				orDash(strings.Join(members, "; "))}
		},
	})
}

// memberFlags are --user and --group, of which share and unshare need
// exactly one.
type memberFlags struct{ user, group string }

func (m memberFlags) check(cmd string) error {
	if (m.user == "") == (m.group == "") {
		return usagef("%s needs one folder name and either --user EMAIL or --group NAME", cmd)
	}
	return nil
}

// resolve finds the member in the directory.
func (m memberFlags) resolve(ctx context.Context, tx store.Tx) (store.FolderMember, folderMemberView, error) {
	if m.user != "" {
		u, err := tx.UserByEmail(ctx, m.user)
		if err != nil {
			return store.FolderMember{}, folderMemberView{}, notFound(err, "user "+m.user)
		}
		return store.FolderMember{Kind: store.MemberUser, ID: u.ID}, folderMemberView{Kind: "user", Name: u.Email}, nil
	}
	g, err := tx.GroupByName(ctx, m.group)
	if err != nil {
		return store.FolderMember{}, folderMemberView{}, notFound(err, fmt.Sprintf("group %q", m.group))
	}
	return store.FolderMember{Kind: store.MemberGroup, ID: g.ID}, folderMemberView{Kind: "group", Name: g.Name}, nil
}

// foldersShare shares a folder with a user or group, or sets the rights of
// one it is shared with; with share false it stops sharing it.
func (c *cli) foldersShare(ctx context.Context, args []string, share bool) error {
	cmd := map[bool]string{true: "folders share", false: "folders unshare"}[share]
	fs := c.flags(cmd)
	asJSON := fs.Bool("json", false, "print JSON")
	var who memberFlags
	fs.StringVar(&who.user, "user", "", "the user (email)")
	fs.StringVar(&who.group, "group", "", "the group (name)")
	var m store.FolderMember
	if share {
		fs.BoolVar(&m.ReadOnly, "readonly", false, "the member may not change the folder's apps")
		fs.BoolVar(&m.Give, "give", false, "the member may see the folder's secrets (LastPass's give)")
		fs.BoolVar(&m.CanAdminister, "admin", false, "the member may administer the folder")
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("%s needs one folder name and either --user EMAIL or --group NAME", cmd)
	}
	if err := who.check(cmd); err != nil {
		return err
	}
	st, _, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	var changed bool
	var member folderMemberView
	var folder string
	err = st.InTx(ctx, func(tx store.Tx) error {
		f, err := tx.FolderByName(ctx, pos[0])
		if err != nil {
			return notFound(err, fmt.Sprintf("folder %q", pos[0]))
		}
		folder = f.Name
		found, fm, err := who.resolve(ctx, tx)
		if err != nil {
			return err
		}
		member = fm
		m.Kind, m.ID = found.Kind, found.ID
		if changed, err = applyShare(ctx, tx, f, m, share); err != nil || !changed {
			return err
		}
		details := map[string]string{member.Kind: member.Name}
		typ := enterprise.EventFolderUnshared
		if share {
			typ = enterprise.EventFolderShared
			details["readonly"], details["give"], details["can_administer"] = flagBit(m.ReadOnly), flagBit(m.Give), flagBit(m.CanAdminister)
		}
		return tx.Record(ctx, &audit.Event{Type: typ, Actor: "cli", Subject: f.Name, Outcome: audit.Success,
			Details: details})
	})
	if err != nil {
		return err
	}
	member.ReadOnly, member.Give, member.CanAdminister = m.ReadOnly, m.Give, m.CanAdminister
	return c.printShare(folder, member, share, changed, *asJSON)
}

// applyShare shares f with m (or sets m's rights), or unshares it;
// changed is false when there was nothing to do.
func applyShare(ctx context.Context, tx store.Tx, f store.Folder, m store.FolderMember, share bool) (bool, error) {
	i := slices.IndexFunc(f.Members, func(x store.FolderMember) bool { return x.Kind == m.Kind && x.ID == m.ID })
	if !share {
		if i < 0 {
			return false, nil
		}
		return true, tx.UnshareFolder(ctx, f.ID, m.Kind, m.ID)
	}
	if i >= 0 && f.Members[i] == m {
		return false, nil
	}
	return true, tx.ShareFolder(ctx, f.ID, m)
}

func flagBit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func (c *cli) printShare(folder string, m folderMemberView, share, changed bool, asJSON bool) error {
	action := map[bool]string{true: "share", false: "unshare"}[share]
	if asJSON {
		return c.printJSON(map[string]any{"folder": folder, "action": action, "changed": changed,
			"kind": m.Kind, "name": m.Name})
	}
	switch {
	case !changed && share:
		fmt.Fprintf(c.stdout, "Folder %s was already shared with %s.\n", folder, m)
	case !changed:
		fmt.Fprintf(c.stdout, "Folder %s was not shared with %s %s.\n", folder, m.Kind, m.Name)
	case share:
		fmt.Fprintf(c.stdout, "Folder %s shared with %s.\n", folder, m)
	default:
		fmt.Fprintf(c.stdout, "Folder %s no longer shared with %s %s.\n", folder, m.Kind, m.Name)
	}
	return nil
}

// foldersApps lists a folder's apps after adding and removing those named
// by --add and --remove, in one transaction.
func (c *cli) foldersApps(ctx context.Context, args []string) error {
	fs := c.flags("folders apps")
	asJSON := fs.Bool("json", false, "print JSON")
	var add, remove stringList
	fs.Var(&add, "add", "put this app in the folder (name; repeatable)")
	fs.Var(&remove, "remove", "take this app out of the folder (name; repeatable)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("folders apps needs one folder name")
	}
	st, _, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	var view folderView
	var kinds map[string]store.AppKind
	err = st.InTx(ctx, func(tx store.Tx) error {
		f, err := tx.FolderByName(ctx, pos[0])
		if err != nil {
			return notFound(err, fmt.Sprintf("folder %q", pos[0]))
		}
		if kinds, err = changeFolderApps(ctx, tx, f, add, remove); err != nil {
			return err
		}
		view, err = viewFolder(ctx, tx, f.Name)
		return err
	})
	if err != nil {
		return err
	}
	for _, name := range add {
		if kinds[name] != store.AppSAML {
			fmt.Fprintf(c.stderr, "warning: app %s is not a SAML app: a folder lets its users sign in to SAML apps only\n", name)
		}
	}
	if *asJSON {
		return c.printJSON(view)
	}
	if len(view.Apps) == 0 {
		fmt.Fprintf(c.stdout, "Folder %s holds no app.\n", view.Name)
		return nil
	}
	fmt.Fprintf(c.stdout, "Folder %s holds: %s\n", view.Name, strings.Join(view.Apps, ", "))
	return nil
}

// changeFolderApps adds and removes apps with their events, and returns
// the kinds of the apps added.
func changeFolderApps(ctx context.Context, tx store.Tx, f store.Folder, add, remove []string) (map[string]store.AppKind, error) {
	kinds := map[string]store.AppKind{}
	for _, set := range []struct {
		names []string
		typ   string
		apply func(context.Context, int64, int64) error
		in    bool // the folder must already hold (remove) or lack (add) the app to change
	}{{add, enterprise.EventFolderAppAdded, tx.AddFolderApp, false}, {remove, enterprise.EventFolderAppRemoved, tx.RemoveFolderApp, true}} {
		for _, name := range set.names {
			a, err := tx.AppByName(ctx, name)
			if err != nil {
				return nil, notFound(err, fmt.Sprintf("app %q", name))
			}
			kinds[name] = a.Kind
			if slices.Contains(f.AppIDs, a.ID) != set.in {
				continue
			}
			if err := set.apply(ctx, f.ID, a.ID); err != nil {
				return nil, err
			}
			if set.in {
				f.AppIDs = slices.DeleteFunc(f.AppIDs, func(id int64) bool { return id == a.ID })
			} else {
				f.AppIDs = append(f.AppIDs, a.ID)
			}
			if err := tx.Record(ctx, &audit.Event{Type: set.typ, Actor: "cli", Subject: f.Name, Outcome: audit.Success,
				Details: map[string]string{"app": a.Name}}); err != nil {
				return nil, err
			}
		}
	}
	return kinds, nil
}

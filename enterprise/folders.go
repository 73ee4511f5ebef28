package enterprise

// getsfdata, getdetailedsfdata and pushsitestousers (lastpass-apis.md
// §2.9, §2.10): shared folders are the directory's folders, collections of
// apps shared with users and groups; package idp lets a user use every app
// of a folder shared with them or with one of their groups, and these
// commands report and grant exactly that.
//
// Decisions:
//   - data may be absent, null, "" or "all", or an object
//     {"data":"all","pageindex":…,"pagesize":…} with numbers or numeric
//     strings (§2.9); both commands take every form. Paging is over folders
//     by ID; no pagesize answers every folder.
//   - The answer maps each folder's ID (decimal) to sharedfoldername, score
//     (0: the gateway scores no passwords), deleted (false: a deleted
//     folder is gone) and users; no folder is [].
//   - users lists each user the folder reaches once, by user ID: the users
//     it is shared with and the members of the groups it is shared with
//     (clients expect user entries; a group has no entry of its own). A
//     user reached several ways has the union of the grants: readonly only
//     when every grant is read-only, give and can_administer when any grant
//     has them. Disabled users are listed: the share stands, and signing in
//     is what their state refuses. superadmin is false: admins get no app
//     through a folder they are not in.
//   - readonly, give and can_administer are the integers 0 and 1, as
//     LastPass's help page documents them (§9.3: follow the docs).
//   - getdetailedsfdata adds sites to every user entry: the folder's apps
//     by app ID, each as the (lower-cased) host of its SAML entity ID when
//     that is a URL, else as the app's name (a URN entity ID names no
//     domain).
//   - pushsitestousers (§2.10) puts an existing app in a folder shared with
//     the recipients; the gateway keeps no vault, so it never stores the
//     url's password, notes or username fields. The app is the one named
//     name (ignoring case); failing that, the one whose entity ID is url,
//     or whose entity ID host is url's host (the first by name). No such
//     app is {"status":"FAIL","error":"No such app: NAME-OR-URL"}: the
//     gateway cannot invent an app's SAML settings.
//   - The folder is the one named group (LastPass's vault folder of the
//     pushed site), or "Pushed sites" without one; it is created when
//     missing. users is "all", an email or a group name (an email is tried
//     first). A user or group it is already shared with keeps its
//     permissions; a new one gets read-only, without give or admin: enough
//     to use the app. "all" lets every user, present and future, use the
//     app (the app's groups gain "*", package idp's Everyone), since a
//     folder is shared with users and groups only and a share per user
//     would be read on every sign-in; its folder.shared event names the
//     group "*".
//   - psid is the folder's ID: a push is the folder it put the app in.
//   - getsfdata and getdetailedsfdata record an "api.getsfdata" event; a
//     push records the folder changes it makes (Event* below, the types
//     `gateway folders` records too) and an "api.pushsitestousers" event.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/portcullis/portcullis/store"
)

func init() {
	commands["getsfdata"] = func(c *call) (any, error) { return sharedFolders(c, false) }
	commands["getdetailedsfdata"] = func(c *call) (any, error) { return sharedFolders(c, true) }
	commands["pushsitestousers"] = pushSites
}

// Audit event types of shared folders, recorded by this package and by
// `gateway folders`. Subject is the folder's name; Details name the member
// ("user" or "group") or the "app".
const (
	EventFolderCreated    = "folder.created"
	EventFolderShared     = "folder.shared"
	EventFolderUnshared   = "folder.unshared"
	EventFolderAppAdded   = "folder.app_added"
	EventFolderAppRemoved = "folder.app_removed"
	EventGetSFData        = "api.getsfdata"
	EventSitesPushed      = "api.pushsitestousers"
)

// PushFolder is the folder pushsitestousers uses when data names none.
const PushFolder = "Pushed sites"

// everyone in an app's groups lets every user use it (idp.Everyone).
const everyone = "*"

func sharedFolders(c *call, detailed bool) (any, error) {
	size, index, err := parseFolderPage(c.req.Data)
	if err != nil {
		return fail(err.Error()), nil
	}
	ctx := c.r.Context()
	if err := c.h.Store.Record(ctx, c.event(EventGetSFData, "", nil)); err != nil {
		return nil, fmt.Errorf("record getsfdata: %w", err)
	}
	folders, err := c.h.Store.ListFolders(ctx)
	if err != nil {
		return nil, err
	}
	if size > 0 {
		start := min(int64(index)*int64(size), int64(len(folders)))
		folders = folders[start:min(start+int64(size), int64(len(folders)))]
	}
	r := folderReader{st: c.h.Store, emails: map[int64]string{}}
	if err := r.load(ctx, folders, detailed); err != nil {
		return nil, err
	}
	out := make(Object, 0, len(folders))
	for _, f := range folders {
		out = append(out, Field{strconv.FormatInt(f.ID, 10), r.folderObject(f, detailed)})
	}
	return out, nil
}

// parseFolderPage reads "all", nothing, or {"data":"all", pageindex,
// pagesize}.
func parseFolderPage(raw json.RawMessage) (size, index int, err error) {
	s, serr := scalar(raw)
	if serr == nil {
		if s == "" || strings.EqualFold(s, "all") {
			return 0, 0, nil
		}
		return 0, 0, errors.New(`Invalid data: data must be "all"`)
	}
	var d map[string]json.RawMessage
	if err := json.Unmarshal(raw, &d); err != nil {
		return 0, 0, errors.New(`Invalid data: data must be "all" or an object`)
	}
	if s, err := scalar(d["data"]); err != nil || s != "" && !strings.EqualFold(s, "all") {
		return 0, 0, errors.New(`Invalid data: data must be "all"`)
	}
	if size, err = countParam(d["pagesize"]); err != nil {
		return 0, 0, errors.New("Invalid data: pagesize must be a number, 0 or more")
	}
	if index, err = countParam(d["pageindex"]); err != nil {
		return 0, 0, errors.New("Invalid data: pageindex must be a number, 0 or more")
	}
	return size, index, nil
}

// folderReader holds what the folders of an answer refer to.
type folderReader struct {
	st      store.Store
	emails  map[int64]string         // user ID → email
	members map[int64][]store.Member // group ID → members
	sites   map[int64]string         // app ID → site
}

func (r *folderReader) load(ctx context.Context, folders []store.Folder, detailed bool) error {
	var groups []int64
	for _, f := range folders {
		for _, m := range f.Members {
			switch m.Kind {
			case store.MemberGroup:
				groups = append(groups, m.ID)
			case store.MemberUser:
				if err := r.loadUser(ctx, m.ID); err != nil {
					return err
				}
			}
		}
	}
	slices.Sort(groups)
	var err error
	if r.members, err = r.st.GroupMembers(ctx, slices.Compact(groups)); err != nil {
		return err
	}
	if !detailed {
		return nil
	}
	apps, err := r.st.ListApps(ctx)
	r.sites = make(map[int64]string, len(apps))
	for _, a := range apps {
		r.sites[a.ID] = site(a)
	}
	return err
}

func (r *folderReader) loadUser(ctx context.Context, id int64) error {
	if _, ok := r.emails[id]; ok {
		return nil
	}
	u, err := r.st.User(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil // deleted since the folder was read
	case err != nil:
		return err
	}
	r.emails[id] = u.Email
	return nil
}

// grant is what one user may do with a folder.
type grant struct {
	email                      string
	readOnly, give, administer bool
}

// folderObject is one folder of the answer.
func (r *folderReader) folderObject(f store.Folder, detailed bool) Object {
	grants := map[int64]*grant{}
	add := func(id int64, email string, m store.FolderMember) {
		g := grants[id]
		if g == nil {
			g = &grant{email: email, readOnly: true}
			grants[id] = g
		}
		g.readOnly = g.readOnly && m.ReadOnly
		g.give = g.give || m.Give
		g.administer = g.administer || m.CanAdminister
	}
	for _, m := range f.Members {
		if m.Kind == store.MemberGroup {
			for _, u := range r.members[m.ID] {
				add(u.UserID, u.Email, m)
			}
		} else if email, ok := r.emails[m.ID]; ok {
			add(m.ID, email, m)
		}
	}
	var sites []string
	if detailed {
		sites = make([]string, 0, len(f.AppIDs))
		for _, id := range f.AppIDs {
			if s, ok := r.sites[id]; ok {
				sites = append(sites, s)
			}
		}
	}
	users := make([]Object, 0, len(grants))
	for _, id := range slices.Sorted(mapKeys(grants)) {
		g := grants[id]
		u := obj("username", g.email, "readonly", bit(g.readOnly), "give", bit(g.give),
			"can_administer", bit(g.administer), "superadmin", false)
		if detailed {
			u = append(u, Field{"sites", sites})
		}
		users = append(users, u)
	}
	return obj("sharedfoldername", f.Name, "score", 0, "deleted", false, "users", users)
}

func mapKeys[V any](m map[int64]V) func(yield func(int64) bool) {
	return func(yield func(int64) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func bit(b bool) int {
	if b {
		return 1
	}
	return 0
}

// site is how getdetailedsfdata names an app: its entity ID's host, or its
// name.
func site(a store.App) string {
	if u, err := url.Parse(a.EntityID); err == nil && u.Hostname() != "" {
		return strings.ToLower(u.Hostname())
	}
	return a.Name
}

// pushData is the part of pushsitestousers's data the gateway uses.
type pushData struct {
	Users  string `json:"users"`
	URL    string `json:"url"`
	Name   string `json:"name"`
	Folder string `json:"group"`
}

func pushSites(c *call) (any, error) {
	var d pushData
	if err := json.Unmarshal(c.req.Data, &d); err != nil {
		return fail("Invalid data: pushsitestousers takes an object with string members"), nil
	}
	d.Users, d.URL, d.Name = strings.TrimSpace(d.Users), strings.TrimSpace(d.URL), strings.TrimSpace(d.Name)
	d.Folder = orDefault(strings.TrimSpace(d.Folder), PushFolder)
	switch {
	case d.Users == "":
		return fail("users is required"), nil
	case d.URL == "" && d.Name == "":
		return fail("name or url is required"), nil
	}
	ctx := c.r.Context()
	var folderID int64
	err := c.h.Store.InTx(ctx, func(tx store.Tx) error {
		p := pusher{c: c, tx: tx, d: d}
		var err error
		folderID, err = p.push(ctx)
		return err
	})
	if err != nil {
		return answer(nil, err)
	}
	return obj("status", "OK", "psid", strconv.FormatInt(folderID, 10)), nil
}

func orDefault(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// pusher is one pushsitestousers in its transaction.
type pusher struct {
	c  *call
	tx store.Tx
	d  pushData
}

func (p *pusher) push(ctx context.Context) (int64, error) {
	app, err := p.findApp(ctx)
	if err != nil {
		return 0, err
	}
	member, label, err := p.recipient(ctx)
	if err != nil {
		return 0, err
	}
	f, err := p.folder(ctx)
	if err != nil {
		return 0, err
	}
	if !slices.Contains(f.AppIDs, app.ID) {
		if err := p.tx.AddFolderApp(ctx, f.ID, app.ID); err != nil {
			return 0, err
		}
		if err := p.record(ctx, EventFolderAppAdded, f.Name, "app", app.Name); err != nil {
			return 0, err
		}
	}
	if member == nil {
		err = p.shareWithEveryone(ctx, app)
	} else {
		err = p.share(ctx, f, *member, label)
	}
	if err != nil {
		return 0, err
	}
	details := map[string]string{"app": app.Name, "folder": f.Name, "users": p.d.Users}
	return f.ID, p.tx.Record(ctx, p.c.event(EventSitesPushed, f.Name, details))
}

func (p *pusher) record(ctx context.Context, typ, folder, k, v string) error {
	return p.tx.Record(ctx, p.c.event(typ, folder, map[string]string{k: v}))
}

// findApp is the app named name, else the one url points at.
func (p *pusher) findApp(ctx context.Context) (store.App, error) {
	if p.d.Name != "" {
		a, err := p.tx.AppByName(ctx, p.d.Name)
		if !errors.Is(err, store.ErrNotFound) {
			return a, err
		}
	}
	missing := clientErrorf("No such app: %s", orDefault(p.d.Name, p.d.URL))
	if p.d.URL == "" {
		return store.App{}, missing
	}
	apps, err := p.tx.ListApps(ctx)
	if err != nil {
		return store.App{}, err
	}
	for _, a := range apps {
		if a.EntityID != "" && a.EntityID == p.d.URL {
			return a, nil
		}
	}
	if host := urlHost(p.d.URL); host != "" {
		for _, a := range apps {
			if urlHost(a.EntityID) == host {
				return a, nil
			}
		}
	}
	return store.App{}, missing
}

// urlHost is the lower-cased host of an http(s) URL, or of a bare host
// such as wiki.example.com/path; "" when there is none.
func urlHost(s string) string {
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// recipient resolves users: nil for "all", else the user with that email
// or the group with that name, and how events name it.
func (p *pusher) recipient(ctx context.Context) (*store.FolderMember, [2]string, error) {
	if strings.EqualFold(p.d.Users, "all") {
		return nil, [2]string{}, nil
	}
	u, err := p.tx.UserByEmail(ctx, p.d.Users)
	if err == nil {
		return &store.FolderMember{Kind: store.MemberUser, ID: u.ID}, [2]string{"user", u.Email}, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, [2]string{}, err
	}
	g, err := p.tx.GroupByName(ctx, p.d.Users)
	if errors.Is(err, store.ErrNotFound) {
		return nil, [2]string{}, clientErrorf("No such user or group: %s", p.d.Users)
	}
	return &store.FolderMember{Kind: store.MemberGroup, ID: g.ID}, [2]string{"group", g.Name}, err
}

// folder is the push's folder, created when missing.
func (p *pusher) folder(ctx context.Context) (store.Folder, error) {
	f, err := p.tx.FolderByName(ctx, p.d.Folder)
	if !errors.Is(err, store.ErrNotFound) {
		return f, err
	}
	f = store.Folder{Name: p.d.Folder}
	if err := p.tx.CreateFolder(ctx, &f); err != nil {
		return f, err
	}
	return f, p.tx.Record(ctx, p.c.event(EventFolderCreated, f.Name, nil))
}

// share shares f with m read-only, unless it is shared with m already.
func (p *pusher) share(ctx context.Context, f store.Folder, m store.FolderMember, label [2]string) error {
	if slices.ContainsFunc(f.Members, func(x store.FolderMember) bool { return x.Kind == m.Kind && x.ID == m.ID }) {
		return nil
	}
	m.ReadOnly = true
	if err := p.tx.ShareFolder(ctx, f.ID, m); err != nil {
		return err
	}
	return p.tx.Record(ctx, p.c.event(EventFolderShared, f.Name,
		map[string]string{label[0]: label[1], "readonly": "1", "give": "0", "can_administer": "0"}))
}

// shareWithEveryone lets every user use app.
func (p *pusher) shareWithEveryone(ctx context.Context, app store.App) error {
	if slices.Contains(app.Groups, everyone) {
		return nil
	}
	app.Groups = append(app.Groups, everyone)
	if err := p.tx.UpdateApp(ctx, app); err != nil {
		return err
	}
	return p.tx.Record(ctx, p.c.event(EventFolderShared, p.d.Folder, map[string]string{"app": app.Name, "group": everyone}))
}

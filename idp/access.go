package idp

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// Everyone in an app's Groups makes it usable by every user.
const Everyone = "*"

// directory is what access decisions read about one user: their groups and
// the shared folders, loaded once per request.
type directory struct {
	groups  []store.Group
	folders []store.Folder // nil until needed
	loaded  bool
}

// loadGroups reads the user's groups.
func (h *Handler) loadGroups(ctx context.Context, u store.User) (*directory, error) {
	groups, err := h.Store.UserGroups(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("idp: groups of %s: %w", u.Email, err)
	}
	return &directory{groups: groups}, nil
}

// allowed reports whether u may use a: u is in one of a.Groups (Everyone
// for all), or a is in a shared folder shared with u or one of u's groups.
// Folders are read only when the groups do not decide.
func (h *Handler) allowed(ctx context.Context, u store.User, d *directory, a store.App) (bool, error) {
	if inGroups(a.Groups, d.groups) {
		return true, nil
	}
	if !d.loaded {
		folders, err := h.Store.ListFolders(ctx)
		if err != nil {
			return false, fmt.Errorf("idp: folders: %w", err)
		}
		d.folders, d.loaded = folders, true
	}
	return inSharedFolder(a.ID, u.ID, d.groups, d.folders), nil
}

func inGroups(appGroups []string, groups []store.Group) bool {
	for _, want := range appGroups {
		if want == Everyone {
			return true
		}
		for _, g := range groups {
			if strings.EqualFold(g.Name, want) {
				return true
			}
		}
	}
	return false
}

func inSharedFolder(appID, userID int64, groups []store.Group, folders []store.Folder) bool {
	for _, f := range folders {
		if slices.Contains(f.AppIDs, appID) && sharedWith(f, userID, groups) {
			return true
		}
	}
	return false
}

func sharedWith(f store.Folder, userID int64, groups []store.Group) bool {
	for _, m := range f.Members {
		if m.Kind == store.MemberUser && m.ID == userID {
			return true
		}
		if m.Kind == store.MemberGroup {
			for _, g := range groups {
				if g.ID == m.ID {
					return true
				}
			}
		}
	}
	return false
}

// AppsFor lists the SAML apps u may use, for the portal (portal.Handler.Apps):
// each opens through its IdP-initiated launch URL.
func (h *Handler) AppsFor(ctx context.Context, u store.User) ([]web.App, error) {
	all, err := h.Store.ListApps(ctx)
	if err != nil {
		return nil, fmt.Errorf("idp: list apps: %w", err)
	}
	d, err := h.loadGroups(ctx, u)
	if err != nil {
		return nil, err
	}
	var out []web.App
	for _, a := range all {
		if a.Kind != store.AppSAML {
			continue
		}
		ok, err := h.allowed(ctx, u, d, a)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, web.App{Name: a.Name, URL: LaunchPath(a.Name)})
		}
	}
	return out, nil
}

// LaunchPath is the IdP-initiated sign-in path of the app called name.
func LaunchPath(name string) string {
	return "/saml/apps/" + url.PathEscape(name) + "/launch"
}

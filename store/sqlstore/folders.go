package sqlstore

import (
	"context"
	"fmt"

	"github.com/portcullis/portcullis/store"
)

func scanFolder(s scanner) (store.Folder, error) {
	var f store.Folder
	err := s.Scan(&f.ID, &f.Name, timeCol{&f.CreatedAt})
	return f, err
}

// CreateFolder inserts f with its members and apps, setting f.ID, and
// f.CreatedAt when zero. A member or app that does not exist is ErrConflict
// and leaves nothing behind.
func (c *conn) CreateFolder(ctx context.Context, f *store.Folder) error {
	op := fmt.Sprintf("create folder %q", f.Name)
	n, err := name(f.Name)
	if err != nil {
		return c.fail(op, err)
	}
	at := normTime(f.CreatedAt)
	if at.IsZero() {
		at = now()
	}
	var created []store.Folder
	err = c.atomic(ctx, func(c *conn) error {
		id, err := c.insert(ctx, op, `INSERT INTO folders (name, name_key, created_at)
			VALUES (?, ?, ?) RETURNING id`, n, key(n), timeArg(at))
		if err != nil {
			return err
		}
		if err := c.fillFolder(ctx, id, f.Members, f.AppIDs); err != nil {
			return err
		}
		// Read back, so that f ends up ordered and deduplicated as a read.
		created, err = c.withContents(ctx, op, []store.Folder{{ID: id, Name: n, CreatedAt: at}},
			`WHERE folder_id = ?`, id)
		return err
	})
	if err != nil {
		return err
	}
	*f = created[0]
	return nil
}

func (c *conn) fillFolder(ctx context.Context, id int64, members []store.FolderMember, apps []int64) error {
	for _, m := range members {
		if err := c.ShareFolder(ctx, id, m); err != nil {
			return err
		}
	}
	for _, app := range apps {
		if err := c.AddFolderApp(ctx, id, app); err != nil {
			return err
		}
	}
	return nil
}

// Folder returns the folder with that ID, with its members and apps.
func (c *conn) Folder(ctx context.Context, id int64) (store.Folder, error) {
	return c.folderWhere(ctx, fmt.Sprintf("folder %d", id), `id = ?`, id)
}

// FolderByName returns the folder with that name, ignoring case.
func (c *conn) FolderByName(ctx context.Context, name string) (store.Folder, error) {
	return c.folderWhere(ctx, fmt.Sprintf("folder %q", name), `name_key = ?`, key(name))
}

func (c *conn) folderWhere(ctx context.Context, op, cond string, arg any) (store.Folder, error) {
	f, err := one(ctx, c, op, scanFolder,
		`SELECT id, name, created_at FROM folders WHERE `+cond, arg)
	if err != nil {
		return f, err
	}
	folders, err := c.withContents(ctx, op, []store.Folder{f}, `WHERE folder_id = ?`, f.ID)
	if err != nil {
		return store.Folder{}, err
	}
	return folders[0], nil
}

// ListFolders returns every folder with members and apps, ordered by ID.
func (c *conn) ListFolders(ctx context.Context) ([]store.Folder, error) {
	folders, err := all(ctx, c, "list folders", scanFolder,
		`SELECT id, name, created_at FROM folders ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return c.withContents(ctx, "list folders", folders, "")
}

// withContents fills in the members and apps of folders, reading the rows
// that where (a clause on folder_id, or "" for all) selects.
func (c *conn) withContents(ctx context.Context, op string, folders []store.Folder, where string, args ...any) ([]store.Folder, error) {
	index := make(map[int64]*store.Folder, len(folders))
	for i := range folders {
		index[folders[i].ID] = &folders[i]
	}
	err := c.eachMember(ctx, op, where, args, func(folderID int64, m store.FolderMember) {
		if f := index[folderID]; f != nil {
			f.Members = append(f.Members, m)
		}
	})
	if err != nil {
		return nil, err
	}
	err = c.eachFolderApp(ctx, op, where, args, func(folderID, appID int64) {
		if f := index[folderID]; f != nil {
			f.AppIDs = append(f.AppIDs, appID)
		}
	})
	return folders, err
}

// eachMember calls fn for each member row, groups before users, each by ID.
func (c *conn) eachMember(ctx context.Context, op, where string, args []any, fn func(int64, store.FolderMember)) error {
	type row struct {
		folder int64
		m      store.FolderMember
	}
	rows, err := all(ctx, c, op, func(s scanner) (row, error) {
		var r row
		var user, group *int64
		err := s.Scan(&r.folder, &user, &group, &r.m.ReadOnly, &r.m.Give, &r.m.CanAdminister)
		r.m.Kind, r.m.ID = memberOf(user, group)
		return r, err
	}, `SELECT folder_id, user_id, group_id, read_only, give, can_administer
		FROM folder_members `+where+` ORDER BY folder_id, user_id IS NOT NULL,
		COALESCE(group_id, user_id)`, args...)
	for _, r := range rows {
		fn(r.folder, r.m)
	}
	return err
}

func memberOf(user, group *int64) (store.MemberKind, int64) {
	if user != nil {
		return store.MemberUser, *user
	}
	if group != nil {
		return store.MemberGroup, *group
	}
	return "", 0
}

// eachFolderApp calls fn for each folder app row, ordered by app ID.
func (c *conn) eachFolderApp(ctx context.Context, op, where string, args []any, fn func(int64, int64)) error {
	rows, err := all(ctx, c, op, func(s scanner) ([2]int64, error) {
		var r [2]int64
		return r, s.Scan(&r[0], &r[1])
	}, `SELECT folder_id, app_id FROM folder_apps `+where+` ORDER BY folder_id, app_id`, args...)
	for _, r := range rows {
		fn(r[0], r[1])
	}
	return err
}

// DeleteFolder removes the folder; the schema cascades to its members and
// apps.
func (c *conn) DeleteFolder(ctx context.Context, id int64) error {
	return c.execOne(ctx, fmt.Sprintf("delete folder %d", id), `DELETE FROM folders WHERE id = ?`, id)
}

package sqlstore

import (
	"context"
	"fmt"

	"github.com/portcullis/portcullis/store"
)

// memberColumn is the folder_members column that holds members of kind k.
func memberColumn(k store.MemberKind) (string, error) {
	switch k {
	case store.MemberUser:
		return "user_id", nil
	case store.MemberGroup:
		return "group_id", nil
	}
	return "", fmt.Errorf("unknown folder member kind %q", k)
}

// ShareFolder adds a member to a folder or updates their permissions. A
// folder or member that does not exist is ErrConflict.
func (c *conn) ShareFolder(ctx context.Context, folderID int64, m store.FolderMember) error {
	op := fmt.Sprintf("share folder %d with %s %d", folderID, m.Kind, m.ID)
	col, err := memberColumn(m.Kind)
	if err != nil {
		return c.fail(op, err)
	}
	_, err = c.exec(ctx, `INSERT INTO folder_members (folder_id, `+col+`, read_only, give,
		can_administer) VALUES (?, ?, ?, ?, ?) ON CONFLICT (folder_id, `+col+`) DO UPDATE
		SET read_only = excluded.read_only, give = excluded.give,
		can_administer = excluded.can_administer`,
		folderID, m.ID, m.ReadOnly, m.Give, m.CanAdminister)
	if err != nil {
		return c.fail(op, err)
	}
	return nil
}

// UnshareFolder removes a member from a folder, if present.
func (c *conn) UnshareFolder(ctx context.Context, folderID int64, kind store.MemberKind, memberID int64) error {
	op := fmt.Sprintf("unshare folder %d with %s %d", folderID, kind, memberID)
	col, err := memberColumn(kind)
	if err != nil {
		return c.fail(op, err)
	}
	_, err = c.exec(ctx, `DELETE FROM folder_members WHERE folder_id = ? AND `+col+` = ?`,
		folderID, memberID)
	if err != nil {
		return c.fail(op, err)
	}
	return nil
}

// AddFolderApp puts an app in a folder; adding a present app does nothing.
func (c *conn) AddFolderApp(ctx context.Context, folderID, appID int64) error {
	_, err := c.exec(ctx, `INSERT INTO folder_apps (folder_id, app_id) VALUES (?, ?)
		ON CONFLICT (folder_id, app_id) DO NOTHING`, folderID, appID)
	if err != nil {
		return c.fail(fmt.Sprintf("add app %d to folder %d", appID, folderID), err)
	}
	return nil
}

// RemoveFolderApp takes an app out of a folder, if present.
func (c *conn) RemoveFolderApp(ctx context.Context, folderID, appID int64) error {
	_, err := c.exec(ctx, `DELETE FROM folder_apps WHERE folder_id = ? AND app_id = ?`,
		folderID, appID)
	if err != nil {
		return c.fail(fmt.Sprintf("remove app %d from folder %d", appID, folderID), err)
	}
	return nil
}

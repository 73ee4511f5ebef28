package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/portcullis/portcullis/store"
)

const appCols = `id, name, kind, COALESCE(entity_id, ''), metadata_url, metadata, mfa,
	group_names, settings, created_at, updated_at`

func scanApp(s scanner) (store.App, error) {
	var a store.App
	err := s.Scan(&a.ID, &a.Name, &a.Kind, &a.EntityID, &a.MetadataURL, &a.Metadata, &a.MFA,
		listCol{&a.Groups}, rawCol{&a.Settings}, timeCol{&a.CreatedAt}, timeCol{&a.UpdatedAt})
	return a, err
}

// normApp is a as the store keeps it, with its settings encoded.
func normApp(a store.App) (store.App, any, error) {
	n, err := name(a.Name)
	if err != nil {
		return a, nil, err
	}
	settings, err := rawArg(a.Settings)
	if err != nil {
		return a, nil, err
	}
	a.Name, a.Groups = n, normList(a.Groups)
	a.Settings = json.RawMessage(normBytes(a.Settings))
	a.CreatedAt, a.UpdatedAt = normTime(a.CreatedAt), normTime(a.UpdatedAt)
	return a, settings, nil
}

// CreateApp inserts a, setting a.ID, a.UpdatedAt, and a.CreatedAt when zero.
// An empty EntityID may repeat; a set one is unique.
func (c *conn) CreateApp(ctx context.Context, a *store.App) error {
	op := fmt.Sprintf("create app %q", a.Name)
	n, settings, err := normApp(*a)
	if err != nil {
		return c.fail(op, err)
	}
	if n.CreatedAt.IsZero() {
		n.CreatedAt = now()
	}
	n.UpdatedAt = n.CreatedAt
	n.ID, err = c.insert(ctx, op, `INSERT INTO apps (name, name_key, kind, entity_id,
		metadata_url, metadata, mfa, group_names, settings, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		n.Name, key(n.Name), string(n.Kind), nullString(n.EntityID), n.MetadataURL, n.Metadata,
		n.MFA, listArg(n.Groups), settings, timeArg(n.CreatedAt), timeArg(n.UpdatedAt))
	if err != nil {
		return err
	}
	*a = n
	return nil
}

// App returns the app with that ID.
func (c *conn) App(ctx context.Context, id int64) (store.App, error) {
	return one(ctx, c, fmt.Sprintf("app %d", id), scanApp,
		`SELECT `+appCols+` FROM apps WHERE id = ?`, id)
}

// AppByName returns the app with that name, ignoring case.
func (c *conn) AppByName(ctx context.Context, name string) (store.App, error) {
	return one(ctx, c, fmt.Sprintf("app %q", name), scanApp,
		`SELECT `+appCols+` FROM apps WHERE name_key = ?`, key(name))
}

// AppByEntityID returns the app with that SAML entity ID (an indexed,
// unique column; empty never matches).
func (c *conn) AppByEntityID(ctx context.Context, entityID string) (store.App, error) {
	return one(ctx, c, fmt.Sprintf("app with entity ID %q", entityID), scanApp,
		`SELECT `+appCols+` FROM apps WHERE entity_id = ?`, entityID)
}

// ListApps returns every app ordered by name, ignoring case.
func (c *conn) ListApps(ctx context.Context) ([]store.App, error) {
	return all(ctx, c, "list apps", scanApp, `SELECT `+appCols+` FROM apps ORDER BY name_key, id`)
}

// UpdateApp replaces every field of the app with a.ID but its ID and
// CreatedAt, and sets its UpdatedAt to now.
func (c *conn) UpdateApp(ctx context.Context, a store.App) error {
	op := fmt.Sprintf("update app %d", a.ID)
	n, settings, err := normApp(a)
	if err != nil {
		return c.fail(op, err)
	}
	return c.execOne(ctx, op, `UPDATE apps SET name = ?, name_key = ?, kind = ?, entity_id = ?,
		metadata_url = ?, metadata = ?, mfa = ?, group_names = ?, settings = ?, updated_at = ?
		WHERE id = ?`,
		n.Name, key(n.Name), string(n.Kind), nullString(n.EntityID), n.MetadataURL, n.Metadata,
		n.MFA, listArg(n.Groups), settings, timeArg(now()), n.ID)
}

// DeleteApp removes the app; the schema takes it out of every folder.
func (c *conn) DeleteApp(ctx context.Context, id int64) error {
	return c.execOne(ctx, fmt.Sprintf("delete app %d", id), `DELETE FROM apps WHERE id = ?`, id)
}

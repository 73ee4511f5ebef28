package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/portcullis/portcullis/store"
)

const idpCols = `id, name, entity_id, metadata_url, metadata, settings, created_at, updated_at`

func scanIdP(s scanner) (store.IdP, error) {
	var p store.IdP
	err := s.Scan(&p.ID, &p.Name, &p.EntityID, &p.MetadataURL, &p.Metadata,
		rawCol{&p.Settings}, timeCol{&p.CreatedAt}, timeCol{&p.UpdatedAt})
	return p, err
}

// normIdP is p as the store keeps it, with its settings encoded.
func normIdP(p store.IdP) (store.IdP, any, error) {
	n, err := name(p.Name)
	if err != nil {
		return p, nil, err
	}
	settings, err := rawArg(p.Settings)
	if err != nil {
		return p, nil, err
	}
	p.Name, p.Settings = n, json.RawMessage(normBytes(p.Settings))
	p.CreatedAt, p.UpdatedAt = normTime(p.CreatedAt), normTime(p.UpdatedAt)
	return p, settings, nil
}

// CreateIdP inserts p, setting p.ID, p.UpdatedAt, and p.CreatedAt when zero.
func (c *conn) CreateIdP(ctx context.Context, p *store.IdP) error {
	op := fmt.Sprintf("create idp %q", p.Name)
	n, settings, err := normIdP(*p)
	if err != nil {
		return c.fail(op, err)
	}
	if n.CreatedAt.IsZero() {
		n.CreatedAt = now()
	}
	n.UpdatedAt = n.CreatedAt
	n.ID, err = c.insert(ctx, op, `INSERT INTO idps (name, name_key, entity_id, metadata_url,
		metadata, settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		n.Name, key(n.Name), n.EntityID, n.MetadataURL, n.Metadata, settings,
		timeArg(n.CreatedAt), timeArg(n.UpdatedAt))
	if err != nil {
		return err
	}
	*p = n
	return nil
}

// IdP returns the upstream IdP with that ID.
func (c *conn) IdP(ctx context.Context, id int64) (store.IdP, error) {
	return one(ctx, c, fmt.Sprintf("idp %d", id), scanIdP,
		`SELECT `+idpCols+` FROM idps WHERE id = ?`, id)
}

// IdPByName returns the upstream IdP with that name, ignoring case.
func (c *conn) IdPByName(ctx context.Context, name string) (store.IdP, error) {
	return one(ctx, c, fmt.Sprintf("idp %q", name), scanIdP,
		`SELECT `+idpCols+` FROM idps WHERE name_key = ?`, key(name))
}

// IdPByEntityID returns the upstream IdP with that entity ID.
func (c *conn) IdPByEntityID(ctx context.Context, entityID string) (store.IdP, error) {
	return one(ctx, c, fmt.Sprintf("idp with entity ID %q", entityID), scanIdP,
		`SELECT `+idpCols+` FROM idps WHERE entity_id = ? ORDER BY id LIMIT 1`, entityID)
}

// ListIdPs returns every upstream IdP ordered by name, ignoring case.
func (c *conn) ListIdPs(ctx context.Context) ([]store.IdP, error) {
	return all(ctx, c, "list idps", scanIdP, `SELECT `+idpCols+` FROM idps ORDER BY name_key, id`)
}

// IdPNames returns every upstream IdP's name, in ListIdPs's order.
func (c *conn) IdPNames(ctx context.Context) ([]string, error) {
	return all(ctx, c, "list idp names", func(s scanner) (name string, err error) {
		err = s.Scan(&name)
		return name, err
	}, `SELECT name FROM idps ORDER BY name_key, id`)
}

// UpdateIdP replaces every field of the IdP with p.ID but its ID and
// CreatedAt, and sets its UpdatedAt to now.
func (c *conn) UpdateIdP(ctx context.Context, p store.IdP) error {
	op := fmt.Sprintf("update idp %d", p.ID)
	n, settings, err := normIdP(p)
	if err != nil {
		return c.fail(op, err)
	}
	return c.execOne(ctx, op, `UPDATE idps SET name = ?, name_key = ?, entity_id = ?,
		metadata_url = ?, metadata = ?, settings = ?, updated_at = ? WHERE id = ?`,
		n.Name, key(n.Name), n.EntityID, n.MetadataURL, n.Metadata, settings,
		timeArg(now()), n.ID)
}

// DeleteIdP removes the upstream IdP.
func (c *conn) DeleteIdP(ctx context.Context, id int64) error {
	return c.execOne(ctx, fmt.Sprintf("delete idp %d", id), `DELETE FROM idps WHERE id = ?`, id)
}

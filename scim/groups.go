package scim

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/scim/filter"
	"github.com/portcullis/portcullis/store"
)

func groupEndpoints(h *Handler) endpoints {
	return endpoints{list: h.listGroups, create: h.createGroup, get: h.getGroup,
		replace: h.replaceGroup, patch: h.patchGroup, remove: h.deleteGroup}
}

func (h *Handler) createGroup(c *call) error {
	ctx := c.r.Context()
	doc, err := decode(c.r)
	if err != nil {
		return err
	}
	if err := normalize(groupType, doc); err != nil {
		return err
	}
	g, err := groupFields(doc)
	if err != nil {
		return err
	}
	ids, err := memberIDs(doc["members"])
	if err != nil {
		return err
	}
	var members []store.Member
	err = h.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateGroup(ctx, &g); err != nil {
			return groupConflict(err, g.Name)
		}
		if err := tx.Record(ctx, c.event(audit.GroupCreated, g.Name, groupDetails(g))); err != nil {
			return err
		}
		m := &membership{tx: tx, c: c, group: g}
		if err := m.add(ctx, ids); err != nil {
			return err
		}
		return m.reload(ctx, &g, &members)
	})
	if err != nil {
		return err
	}
	c.w.Header().Set("Location", h.location("/Groups", g.ID))
	return h.respond(c, http.StatusCreated, groupType, h.groupResource(g, members, true), g.Version)
}

func (h *Handler) getGroup(c *call) error {
	ctx := c.r.Context()
	id, err := parseID("Group", c.id)
	if err != nil {
		return err
	}
	g, err := h.Store.Group(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Group %d not found", id)
	}
	if err != nil {
		return err
	}
	if notModified(c, g.Version) {
		return nil
	}
	with := wantsMembers(c.r)
	var members map[int64][]store.Member
	if with {
		if members, err = h.Store.GroupMembers(ctx, []int64{id}); err != nil {
			return err
		}
	}
	return h.respond(c, http.StatusOK, groupType, h.groupResource(g, members[id], with), g.Version)
}

// wantsMembers reports whether the response will show members, so that
// reads which exclude them (Entra ID's) never load a large group's list.
func wantsMembers(r *http.Request) bool {
	q := r.URL.Query()
	for _, a := range splitAttrs(q.Get("excludedAttributes")) {
		if a == "members" || a == strings.ToLower(GroupSchema)+":members" {
			return false
		}
	}
	include := splitAttrs(q.Get("attributes"))
	if len(include) == 0 {
		return true
	}
	for _, a := range include {
		if a == "members" || strings.HasPrefix(a, "members.") || strings.Contains(a, ":members") {
			return true
		}
	}
	return false
}

// replaceGroup is PUT: name, external ID and members become the document's.
func (h *Handler) replaceGroup(c *call) error {
	doc, err := decode(c.r)
	if err != nil {
		return err
	}
	if err := normalize(groupType, doc); err != nil {
		return err
	}
	want, err := groupFields(doc)
	if err != nil {
		return err
	}
	ids, err := memberIDs(doc["members"])
	if err != nil {
		return err
	}
	return h.changeGroup(c, true, func(ctx context.Context, m *membership) error {
		m.name, m.externalID = want.Name, want.ExternalID
		return m.set(ctx, ids)
	})
}

// patchGroup is PATCH. Operations on members become single-row inserts
// and deletes, never a rewrite of the member list, so that adding one
// member to a group of ten thousand costs what adding it to an empty one
// does. Attributes a Group does not have are accepted and not kept.
func (h *Handler) patchGroup(c *call) error {
	ops, err := decodePatch(c.r)
	if err != nil {
		return err
	}
	withBody := c.r.URL.Query().Get("attributes") != ""
	return h.changeGroup(c, withBody, func(ctx context.Context, m *membership) error {
		for _, op := range ops {
			if err := m.apply(ctx, op); err != nil {
				return err
			}
		}
		return nil
	})
}

// changeGroup runs a change of one group in a transaction holding its row:
// If-Match is checked against the version it holds, and concurrent changes
// of one group's members queue instead of losing each other's updates. The
// answer is 200 with the group when body is set, else 204 (RFC 7644
// §3.5.2 allows either; the attributes parameter asks for the body).
func (h *Handler) changeGroup(c *call, body bool, change func(ctx context.Context, m *membership) error) error {
	ctx := c.r.Context()
	id, err := parseID("Group", c.id)
	if err != nil {
		return err
	}
	var g store.Group
	var members []store.Member
	err = h.Store.InTx(ctx, func(tx store.Tx) error {
		before, err := lockGroup(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := checkIfMatch(c.r, before.Version); err != nil {
			return err
		}
		m := &membership{tx: tx, c: c, group: before, name: before.Name, externalID: before.ExternalID}
		if err := change(ctx, m); err != nil {
			return err
		}
		if err := m.save(ctx); err != nil {
			return err
		}
		g = m.group
		if !body {
			g, err = tx.Group(ctx, id)
			return err
		}
		return m.reload(ctx, &g, &members)
	})
	if err != nil {
		return err
	}
	if !body {
		c.w.Header().Set("ETag", etag(g.Version))
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return h.respond(c, http.StatusOK, groupType, h.groupResource(g, members, true), g.Version)
}

func lockGroup(ctx context.Context, tx store.Tx, id int64) (store.Group, error) {
	g, err := tx.LockGroup(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return g, notFound("Group %d not found", id)
	}
	return g, err
}

func (h *Handler) deleteGroup(c *call) error {
	ctx := c.r.Context()
	id, err := parseID("Group", c.id)
	if err != nil {
		return err
	}
	err = h.Store.InTx(ctx, func(tx store.Tx) error {
		g, err := lockGroup(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := checkIfMatch(c.r, g.Version); err != nil {
			return err
		}
		if err := tx.DeleteGroup(ctx, id); err != nil {
			return err
		}
		return tx.Record(ctx, c.event(audit.GroupDeleted, g.Name, groupDetails(g)))
	})
	if err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func groupConflict(err error, name string) error {
	if errors.Is(err, store.ErrConflict) {
		return conflict("displayName %q is already taken", name)
	}
	return err
}

func groupDetails(g store.Group) map[string]string {
	d := map[string]string{"scim_id": strconv.FormatInt(g.ID, 10)}
	if g.ExternalID != "" {
		d["external_id"] = g.ExternalID
	}
	return d
}

// membership is one group's change in progress inside a transaction.
type membership struct {
	tx               store.Tx
	c                *call
	group            store.Group
	name, externalID string // wanted
}

// apply applies one PATCH operation to the group.
func (m *membership) apply(ctx context.Context, op patchOp) error {
	if op.path == "" {
		obj, ok := op.value.(map[string]any)
		if !ok || op.op == "remove" {
			return m.members(ctx, op, nil) // Entra ID: remove members given in value
		}
		for k, v := range obj {
			if err := m.apply(ctx, patchOp{op: op.op, path: k, value: v}); err != nil {
				return err
			}
		}
		return nil
	}
	p, err := filter.ParsePath(op.path)
	if err != nil {
		return badRequest(invalidPath, "%v", err)
	}
	if p.Attr.URI != "" && !strings.EqualFold(p.Attr.URI, GroupSchema) {
		return nil // an extension we do not keep
	}
	switch strings.ToLower(p.Attr.Name) {
	case "members":
		return m.members(ctx, op, p.Filter)
	case "displayname":
		s, ok := op.value.(string)
		if op.op == "remove" || !ok || strings.TrimSpace(s) == "" {
			return badRequest(invalidValue, "displayName is required: it can be replaced, not removed")
		}
		m.name = strings.TrimSpace(s)
	case "externalid":
		s, _ := op.value.(string)
		if op.op != "remove" && s == "" {
			return badRequest(invalidValue, "externalId must be a string")
		}
		m.externalID = s
	case "id", "meta":
		if s, _ := op.value.(string); op.op != "remove" && strings.EqualFold(p.Attr.Name, "id") && s == strconv.FormatInt(m.group.ID, 10) {
			return nil // Okta sends the id it has beside a rename: setting it to itself changes nothing
		}
		return &Error{Status: http.StatusBadRequest, Type: mutability, Detail: op.path + " is read-only"}
	}
	return nil
}

// members applies an operation on the members attribute, narrowed by flt.
func (m *membership) members(ctx context.Context, op patchOp, flt filter.Expr) error {
	if flt != nil {
		if op.op != "remove" {
			return badRequest(invalidPath, "%s with a filtered members path is not supported: add or replace members with a list", op.op)
		}
		ids, err := m.selected(ctx, flt)
		if err != nil {
			return err
		}
		return m.remove(ctx, ids)
	}
	if op.op == "remove" && op.value == nil {
		current, err := m.current(ctx)
		if err != nil {
			return err
		}
		return m.remove(ctx, current)
	}
	v := op.value
	if obj, ok := v.(map[string]any); ok && op.path == "" {
		k, _ := key(obj, "members")
		v = obj[k]
	}
	ids, err := memberIDs(v)
	if err != nil {
		return err
	}
	switch op.op {
	case "add":
		return m.add(ctx, ids)
	case "replace":
		return m.set(ctx, ids)
	}
	return m.remove(ctx, ids)
}

// selected returns the members a filter selects; members[value eq "42"]
// needs no read of the member list.
func (m *membership) selected(ctx context.Context, flt filter.Expr) ([]int64, error) {
	if c, ok := flt.(filter.Compare); ok && c.Op == "eq" && strings.EqualFold(c.Path.Name, "value") && c.Path.Sub == "" {
		s, _ := c.Value.(string)
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, nil // not a user's id: selects nobody
		}
		return []int64{id}, nil
	}
	all, err := m.tx.GroupMembers(ctx, []int64{m.group.ID})
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, mem := range all[m.group.ID] {
		doc := map[string]any{"value": strconv.FormatInt(mem.UserID, 10), "display": mem.Email, "type": "User"}
		if filter.Match(flt, doc, filter.Options{CaseExact: func(p string) bool { return p == "value" }}) {
			ids = append(ids, mem.UserID)
		}
	}
	return ids, nil
}

func (m *membership) current(ctx context.Context) ([]int64, error) {
	all, err := m.tx.GroupMembers(ctx, []int64{m.group.ID})
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(all[m.group.ID]))
	for _, mem := range all[m.group.ID] {
		ids = append(ids, mem.UserID)
	}
	return ids, nil
}

// set makes the members exactly ids, by difference.
func (m *membership) set(ctx context.Context, ids []int64) error {
	current, err := m.current(ctx)
	if err != nil {
		return err
	}
	want := make(map[int64]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	have := make(map[int64]bool, len(current))
	var gone []int64
	for _, id := range current {
		have[id] = true
		if !want[id] {
			gone = append(gone, id)
		}
	}
	var added []int64
	for _, id := range ids {
		if !have[id] {
			added = append(added, id)
		}
	}
	if err := m.remove(ctx, gone); err != nil {
		return err
	}
	return m.add(ctx, added)
}

// add adds users, each an audit event, in one statement per few hundred
// (store.AddMembers); an id that is no user is invalidValue and the whole
// request changes nothing.
func (m *membership) add(ctx context.Context, ids []int64) error {
	emails := make(map[int64]string, len(ids))
	for _, id := range ids {
		u, err := m.tx.User(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return badRequest(invalidValue, "member %d is not a User", id)
		}
		if err != nil {
			return err
		}
		emails[id] = u.Email
	}
	added, err := m.tx.AddMembers(ctx, m.group.ID, ids)
	if err != nil {
		return err
	}
	for _, id := range added {
		if err := m.record(ctx, audit.GroupMemberAdd, emails[id]); err != nil {
			return err
		}
	}
	return nil
}

// remove removes users; removing someone who is not a member (or no
// user) changes nothing.
func (m *membership) remove(ctx context.Context, ids []int64) error {
	removed, err := m.tx.RemoveMembers(ctx, m.group.ID, ids)
	if err != nil {
		return err
	}
	for _, id := range removed {
		u, err := m.tx.User(ctx, id)
		if err != nil {
			return err
		}
		if err := m.record(ctx, audit.GroupMemberDel, u.Email); err != nil {
			return err
		}
	}
	return nil
}

func (m *membership) record(ctx context.Context, typ, email string) error {
	d := groupDetails(m.group)
	d["group"] = m.group.Name
	return m.tx.Record(ctx, m.c.event(typ, email, d))
}

// save writes a changed name or external ID.
func (m *membership) save(ctx context.Context) error {
	if m.name == m.group.Name && m.externalID == m.group.ExternalID {
		return nil
	}
	g := m.group
	g.Name, g.ExternalID = m.name, m.externalID
	if err := m.tx.UpdateGroup(ctx, g); err != nil {
		return groupConflict(err, g.Name)
	}
	d := groupDetails(g)
	if g.Name != m.group.Name {
		d["previous_name"] = m.group.Name
	}
	m.group = g
	return m.tx.Record(ctx, m.c.event(audit.GroupUpdated, g.Name, d))
}

// reload reads the group and its members as committed by this transaction.
func (m *membership) reload(ctx context.Context, g *store.Group, members *[]store.Member) error {
	var err error
	if *g, err = m.tx.Group(ctx, m.group.ID); err != nil {
		return err
	}
	all, err := m.tx.GroupMembers(ctx, []int64{g.ID})
	*members = all[g.ID]
	return err
}

package enterprise

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/store"
)

func init() {
	commands["batchadd"] = batchAdd
	commands["batchchangegrp"] = batchChangeGroups
}

// addEntry is one user of batchadd (§2.1).
type addEntry struct {
	Username              string            `json:"username"`
	Fullname              *string           `json:"fullname"`
	Groups                *[]string         `json:"groups"`
	Attribs               map[string]any    `json:"attribs"`
	DuoUsername           *string           `json:"duousername"`
	SecurIDUsername       *string           `json:"securidusername"`
	Password              *string           `json:"password"`
	PasswordResetRequired json.RawMessage   `json:"password_reset_required"`
	attribs               map[string]string // Attribs as text
	hash                  string            // Password hashed
	resetRequired         bool
}

// batchAdd creates users or, for a username that exists, updates it
// (§2.1 compat rule): fullname and attribs when given, groups when given
// (the user's groups become exactly those; groups are created on first
// use), the password when given. A password is temporary unless
// password_reset_required is false. The batch is all or nothing: any bad
// entry fails it, naming the entry, before anything is written.
func batchAdd(c *call) (any, error) {
	entries, err := addEntries(c.req.Data)
	if err != nil {
		return fail(err.Error()), nil
	}
	seen := map[string]int{}
	for i := range entries {
		if err := c.h.prepare(&entries[i], i); err != nil {
			return fail(err.Error()), nil
		}
		k := strings.ToLower(entries[i].Username)
		if first, dup := seen[k]; dup {
			return fail(fmt.Sprintf("Duplicate username in entries %d and %d: %s", first+1, i+1, entries[i].Username)), nil
		}
		seen[k] = i
	}
	ctx := c.r.Context()
	err = c.h.Store.InTx(ctx, func(tx store.Tx) error {
		g := newGroupSet(tx, c)
		for _, e := range entries {
			if err := g.upsert(ctx, e); err != nil {
				return err
			}
		}
		return g.flush(ctx)
	})
	return answer(ok(), err)
}

// addEntries reads data: an array of users, or one user (manage_lastpass
// sends a bare object).
func addEntries(raw json.RawMessage) ([]addEntry, error) {
	trimmed := strings.TrimSpace(string(raw))
	if strings.HasPrefix(trimmed, "{") {
		raw = json.RawMessage("[" + trimmed + "]")
	}
	var entries []addEntry
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("%w (batchadd takes an array of users)", dataError(err))
	}
	if len(entries) == 0 {
		return nil, errors.New("Invalid data: no users")
	}
	return entries, nil
}

// prepare checks an entry and computes what it needs outside the
// transaction (the password hash is slow).
func (h *Handler) prepare(e *addEntry, i int) error {
	e.Username = strings.TrimSpace(e.Username)
	if e.Username == "" || !strings.Contains(e.Username, "@") {
		return fmt.Errorf("Invalid username in entry %d: %q", i+1, e.Username)
	}
	e.attribs = map[string]string{}
	for k, v := range e.Attribs {
		switch x := v.(type) {
		case string:
			e.attribs[k] = x
		case float64, bool:
			e.attribs[k] = fmt.Sprint(x)
		case nil:
		default:
			return fmt.Errorf("Invalid attribs in entry %d: %s must be text", i+1, k)
		}
	}
	e.resetRequired = true
	if len(e.PasswordResetRequired) > 0 {
		b, err := flag(e.PasswordResetRequired)
		if err != nil {
			return fmt.Errorf("Invalid password_reset_required in entry %d", i+1)
		}
		e.resetRequired = b
	}
	if e.Password != nil && *e.Password != "" {
		hash, err := h.Hasher.Hash(*e.Password)
		if err != nil {
			return fmt.Errorf("Invalid password in entry %d: %v", i+1, err)
		}
		e.hash = hash
	}
	return nil
}

// flag reads a boolean sent as true/false, 0/1 or "0"/"1".
func flag(raw json.RawMessage) (bool, error) {
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return b, nil
	}
	s, err := scalar(raw)
	switch {
	case err != nil:
		return false, err
	case s == "1" || strings.EqualFold(s, "true"):
		return true, nil
	case s == "0" || strings.EqualFold(s, "false") || s == "":
		return false, nil
	}
	return false, errors.New("not a flag")
}

// groupSet changes memberships inside one transaction, creating groups on
// first use and remembering the groups it has read.
//
// Membership changes are queued and written per group at the end
// (flush), in statements of a few hundred rows (store.AddMembers): a
// batch of 10,000 users in one group then updates the group's row once,
// not 10,000 times.
type groupSet struct {
	tx      store.Tx
	c       *call
	byName  map[string]store.Group
	pending map[int64]*groupChange // by group ID
}

// groupChange is one group's queued membership changes.
type groupChange struct {
	group    store.Group
	add, del map[int64]string // user ID → email
	addOrder []int64
	delOrder []int64
}

func newGroupSet(tx store.Tx, c *call) *groupSet {
	return &groupSet{tx: tx, c: c, byName: map[string]store.Group{}, pending: map[int64]*groupChange{}}
}

func (g *groupSet) change(grp store.Group) *groupChange {
	gc := g.pending[grp.ID]
	if gc == nil {
		gc = &groupChange{group: grp, add: map[int64]string{}, del: map[int64]string{}}
		g.pending[grp.ID] = gc
	}
	return gc
}

// isMember answers with the queued changes taken into account.
func (g *groupSet) isMember(ctx context.Context, grp store.Group, userID int64) (bool, error) {
	if gc := g.pending[grp.ID]; gc != nil {
		if _, ok := gc.add[userID]; ok {
			return true, nil
		}
		if _, ok := gc.del[userID]; ok {
			return false, nil
		}
	}
	return g.tx.HasMember(ctx, grp.ID, userID)
}

// flush writes the queued changes, each actual change an audit event.
func (g *groupSet) flush(ctx context.Context) error {
	for _, gc := range g.pending {
		removed, err := g.tx.RemoveMembers(ctx, gc.group.ID, gc.delOrder)
		if err != nil {
			return err
		}
		for _, id := range removed {
			if err := g.tx.Record(ctx, g.c.event(audit.GroupMemberDel, gc.del[id], map[string]string{"group": gc.group.Name})); err != nil {
				return err
			}
		}
		added, err := g.tx.AddMembers(ctx, gc.group.ID, gc.addOrder)
		if err != nil {
			return err
		}
		for _, id := range added {
			if err := g.tx.Record(ctx, g.c.event(audit.GroupMemberAdd, gc.add[id], map[string]string{"group": gc.group.Name})); err != nil {
				return err
			}
		}
	}
	g.pending = map[int64]*groupChange{}
	return nil
}

func (g *groupSet) upsert(ctx context.Context, e addEntry) error {
	u, err := g.tx.UserByEmail(ctx, e.Username)
	created := errors.Is(err, store.ErrNotFound)
	if err != nil && !created {
		return err
	}
	if created {
		u = store.User{Email: e.Username, Attributes: map[string]string{}}
	}
	if e.Fullname != nil {
		u.Name = strings.TrimSpace(*e.Fullname)
	}
	for k, v := range e.attribs {
		u.Attributes[k] = v
	}
	setAttr(u.Attributes, "duousername", e.DuoUsername)
	setAttr(u.Attributes, "securidusername", e.SecurIDUsername)
	if e.hash != "" {
		u.PasswordHash, u.PasswordResetRequired, u.PasswordChangedAt = e.hash, e.resetRequired, g.c.h.now()
	}
	typ := audit.UserUpdated
	if created {
		typ = audit.UserCreated
		err = g.tx.CreateUser(ctx, &u)
	} else {
		err = g.tx.UpdateUser(ctx, u)
	}
	if err != nil {
		return err
	}
	if err := g.tx.Record(ctx, g.c.event(typ, u.Email, nil)); err != nil {
		return err
	}
	if e.Groups == nil {
		return nil
	}
	return g.setGroups(ctx, u, *e.Groups, created)
}

// setGroups makes the user's groups exactly names.
func (g *groupSet) setGroups(ctx context.Context, u store.User, names []string, created bool) error {
	want := map[string]bool{}
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" {
			want[strings.ToLower(n)] = true
		}
	}
	var current []store.Group
	if !created {
		var err error
		if current, err = g.tx.UserGroups(ctx, u.ID); err != nil {
			return err
		}
	}
	have := map[string]bool{}
	for _, cg := range current {
		have[strings.ToLower(cg.Name)] = true
		if !want[strings.ToLower(cg.Name)] {
			if err := g.remove(ctx, u, cg); err != nil {
				return err
			}
		}
	}
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" && !have[strings.ToLower(n)] {
			have[strings.ToLower(n)] = true
			if err := g.add(ctx, u, n); err != nil {
				return err
			}
		}
	}
	return nil
}

// group returns the group of that name, creating it when create is set.
func (g *groupSet) group(ctx context.Context, name string, create bool) (store.Group, bool, error) {
	k := strings.ToLower(name)
	if grp, ok := g.byName[k]; ok {
		return grp, true, nil
	}
	grp, err := g.tx.GroupByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		if !create {
			return grp, false, nil
		}
		grp = store.Group{Name: name}
		if err := g.tx.CreateGroup(ctx, &grp); err != nil {
			return grp, false, err
		}
		err = g.tx.Record(ctx, g.c.event(audit.GroupCreated, grp.Name, nil))
	}
	if err != nil {
		return grp, false, err
	}
	g.byName[k] = grp
	return grp, true, nil
}

// add queues adding the user to the group of that name.
func (g *groupSet) add(ctx context.Context, u store.User, name string) error {
	grp, _, err := g.group(ctx, name, true)
	if err != nil {
		return err
	}
	gc := g.change(grp)
	if _, queued := gc.del[u.ID]; queued {
		delete(gc.del, u.ID) // the removal is cancelled; the membership stays
		return nil
	}
	if _, queued := gc.add[u.ID]; !queued {
		gc.add[u.ID] = u.Email
		gc.addOrder = append(gc.addOrder, u.ID)
	}
	return nil
}

// remove queues removing the user from the group.
func (g *groupSet) remove(_ context.Context, u store.User, grp store.Group) error {
	gc := g.change(grp)
	if _, queued := gc.add[u.ID]; queued {
		delete(gc.add, u.ID)
		return nil
	}
	if _, queued := gc.del[u.ID]; !queued {
		gc.del[u.ID] = u.Email
		gc.delOrder = append(gc.delOrder, u.ID)
	}
	return nil
}

// batchChangeGroups adds and removes memberships (§2.7). An entry whose
// user does not exist is skipped and named in errors, with status WARN;
// the others are applied, all in one transaction. Groups are created on
// first add; removing a user from a group they are not in is no error.
func batchChangeGroups(c *call) (any, error) {
	var entries []struct {
		Username string   `json:"username"`
		Add      []string `json:"add"`
		Del      []string `json:"del"`
	}
	raw := c.req.Data
	if t := strings.TrimSpace(string(raw)); strings.HasPrefix(t, "{") {
		raw = json.RawMessage("[" + t + "]")
	}
	if err := json.Unmarshal(raw, &entries); err != nil || len(entries) == 0 {
		return fail("Invalid data: batchchangegrp takes an array of {username, add, del}"), nil
	}
	ctx := c.r.Context()
	var skipped []string
	err := c.h.Store.InTx(ctx, func(tx store.Tx) error {
		g := newGroupSet(tx, c)
		for i, e := range entries {
			name := strings.TrimSpace(e.Username)
			if name == "" {
				skipped = append(skipped, fmt.Sprintf("entry %d has no username", i+1))
				continue
			}
			u, err := findUser(ctx, tx, name)
			if errors.As(err, new(errNoUser)) {
				skipped = append(skipped, name+" does not exist")
				continue
			}
			if err != nil {
				return err
			}
			if err := g.changeUser(ctx, u, e.Add, e.Del); err != nil {
				return err
			}
		}
		return g.flush(ctx)
	})
	if err != nil {
		return nil, err
	}
	if len(skipped) > 0 {
		return obj("status", "WARN", "errors", skipped), nil
	}
	return ok(), nil
}

func (g *groupSet) changeUser(ctx context.Context, u store.User, add, del []string) error {
	for _, n := range add {
		if n = strings.TrimSpace(n); n == "" {
			continue
		}
		grp, _, err := g.group(ctx, n, true)
		if err != nil {
			return err
		}
		if in, err := g.isMember(ctx, grp, u.ID); err != nil || in {
			if err != nil {
				return err
			}
			continue
		}
		if err := g.add(ctx, u, n); err != nil {
			return err
		}
	}
	for _, n := range del {
		grp, found, err := g.group(ctx, strings.TrimSpace(n), false)
		if err != nil || !found {
			if err != nil {
				return err
			}
			continue
		}
		if in, err := g.isMember(ctx, grp, u.ID); err != nil || !in {
			if err != nil {
				return err
			}
			continue
		}
		if err := g.remove(ctx, u, grp); err != nil {
			return err
		}
	}
	return nil
}

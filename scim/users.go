package scim

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/store"
)

func userEndpoints(h *Handler) endpoints {
	return endpoints{list: h.listUsers, create: h.createUser, get: h.getUser,
		replace: h.replaceUser, patch: h.patchUser, remove: h.deleteUser}
}

func (h *Handler) createUser(c *call) error {
	ctx := c.r.Context()
	doc, err := decode(c.r)
	if err != nil {
		return err
	}
	if err := normalize(userType, doc); err != nil {
		return err
	}
	var u store.User
	pw, err := applyUser(&u, doc, true)
	if err != nil {
		return err
	}
	if err := h.setPassword(&u, pw); err != nil {
		return err
	}
	err = h.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateUser(ctx, &u); err != nil {
			return userConflict(err, u.Email)
		}
		return tx.Record(ctx, c.event(audit.UserCreated, u.Email, userDetails(u)))
	})
	if err != nil {
		return err
	}
	res := h.userResource(u, nil)
	c.w.Header().Set("Location", h.location("/Users", u.ID))
	return h.respond(c, http.StatusCreated, userType, res, u.Version)
}

func (h *Handler) getUser(c *call) error {
	id, err := parseID("User", c.id)
	if err != nil {
		return err
	}
	u, groups, err := h.loadUser(c.r.Context(), h.Store, id)
	if err != nil {
		return err
	}
	if notModified(c, u.Version) {
		return nil
	}
	return h.respond(c, http.StatusOK, userType, h.userResource(u, groups), u.Version)
}

// loadUser reads a user with their groups; 404 when there is none.
func (h *Handler) loadUser(ctx context.Context, tx store.Tx, id int64) (store.User, []store.Group, error) {
	u, err := tx.User(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return u, nil, notFound("User %d not found", id)
	}
	if err != nil {
		return u, nil, err
	}
	groups, err := tx.GroupsOf(ctx, []int64{id})
	return u, groups[id], err
}

// replaceUser is PUT (RFC 7644 §3.5.1): the document replaces the user's
// attributes; what it leaves out is cleared, except active and password,
// which keep their values (Okta's PUT may leave them out).
func (h *Handler) replaceUser(c *call) error {
	doc, err := decode(c.r)
	if err != nil {
		return err
	}
	if err := normalize(userType, doc); err != nil {
		return err
	}
	return h.changeUser(c, func(u *store.User, _ []store.Group) (string, error) {
		return applyUser(u, doc, false)
	})
}

// patchUser is PATCH (RFC 7644 §3.5.2) on the user's full document.
func (h *Handler) patchUser(c *call) error {
	ops, err := decodePatch(c.r)
	if err != nil {
		return err
	}
	return h.changeUser(c, func(u *store.User, groups []store.Group) (string, error) {
		doc := h.userDoc(*u, groups)
		if err := applyOps(userType, doc, ops); err != nil {
			return "", err
		}
		if err := normalize(userType, doc); err != nil {
			return "", err
		}
		return applyUser(u, doc, false)
	})
}

// changeUser runs a change of one user in a transaction that holds the
// user's row: If-Match is checked against the version it read, so no update
// is lost. A user made inactive has their sessions ended on every node.
func (h *Handler) changeUser(c *call, change func(u *store.User, groups []store.Group) (string, error)) error {
	ctx := c.r.Context()
	id, err := parseID("User", c.id)
	if err != nil {
		return err
	}
	var before, u store.User
	var groups []store.Group
	err = h.Store.InTx(ctx, func(tx store.Tx) error {
		if before, err = lockUser(ctx, tx, id); err != nil {
			return err
		}
		if err := checkIfMatch(c.r, before.Version); err != nil {
			return err
		}
		if groups, err = tx.UserGroups(ctx, id); err != nil {
			return err
		}
		u = before
		u.Attributes = cloneMap(before.Attributes)
		pw, err := change(&u, groups)
		if err != nil {
			return err
		}
		if err := h.setPassword(&u, pw); err != nil {
			return err
		}
		if err := tx.UpdateUser(ctx, u); err != nil {
			return userConflict(err, u.Email)
		}
		if u, err = tx.User(ctx, id); err != nil {
			return err
		}
		return recordUserChange(ctx, tx, c, before, u, pw != "")
	})
	if err != nil {
		return err
	}
	if u.Disabled && !before.Disabled {
		h.revoke(ctx, u.ID)
	}
	return h.respond(c, http.StatusOK, userType, h.userResource(u, groups), u.Version)
}

func lockUser(ctx context.Context, tx store.Tx, id int64) (store.User, error) {
	u, err := tx.LockUser(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return u, notFound("User %d not found", id)
	}
	return u, err
}

// recordUserChange writes the audit events of a change: an update, and a
// disable or enable when active moved.
func recordUserChange(ctx context.Context, tx store.Tx, c *call, before, after store.User, password bool) error {
	d := userDetails(after)
	if before.Email != after.Email {
		d["previous_user_name"] = before.Email
	}
	if password {
		d["password"] = "set"
	}
	if err := tx.Record(ctx, c.event(audit.UserUpdated, after.Email, d)); err != nil {
		return err
	}
	switch {
	case after.Disabled && !before.Disabled:
		return tx.Record(ctx, c.event(audit.UserDisabled, after.Email, userDetails(after)))
	case !after.Disabled && before.Disabled:
		return tx.Record(ctx, c.event(audit.UserEnabled, after.Email, userDetails(after)))
	}
	return nil
}

func (h *Handler) deleteUser(c *call) error {
	ctx := c.r.Context()
	id, err := parseID("User", c.id)
	if err != nil {
		return err
	}
	err = h.Store.InTx(ctx, func(tx store.Tx) error {
		u, err := lockUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := checkIfMatch(c.r, u.Version); err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, id); err != nil {
			return err
		}
		return tx.Record(ctx, c.event(audit.UserDeleted, u.Email, userDetails(u)))
	})
	if err != nil {
		return err
	}
	h.revoke(ctx, id)
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// revoke ends the user's sessions on every node. A failure is logged, not
// returned: the change is committed, and every request already checks
// that its user exists and is enabled, so the sessions are dead anyway.
func (h *Handler) revoke(ctx context.Context, id int64) {
	if _, err := h.Sessions.RevokeUser(ctx, id); err != nil {
		h.Logger.Error("scim: revoking sessions failed; the user is refused on their next request anyway",
			"user", id, "err", err)
	}
}

func (h *Handler) setPassword(u *store.User, pw string) error {
	if pw == "" {
		return nil
	}
	hash, err := h.Hasher.Hash(pw)
	if err != nil {
		return badRequest(invalidValue, "password: %v", err)
	}
	u.PasswordHash, u.PasswordChangedAt, u.PasswordResetRequired = hash, h.now(), false
	return nil
}

func userConflict(err error, email string) error {
	if errors.Is(err, store.ErrConflict) {
		return conflict("userName %q is already taken", email)
	}
	return err
}

func userDetails(u store.User) map[string]string {
	d := map[string]string{"scim_id": strconv.FormatInt(u.ID, 10)}
	if u.ExternalID != "" {
		d["external_id"] = u.ExternalID
	}
	return d
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

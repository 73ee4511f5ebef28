package sqlstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/storetest/backends"
)

// hooked is a store whose directory hook counts its calls, and reports
// whether the write was visible to another reader when it ran.
type hooked struct {
	store.Store
	calls   int
	visible []bool
	probe   func() bool
}

func newHooked(t *testing.T, open func(*testing.T) store.Store) *hooked {
	h := &hooked{Store: open(t)}
	h.Store.(interface {
		OnDirectoryChange(func(context.Context))
	}).OnDirectoryChange(func(context.Context) {
		h.calls++
		if h.probe != nil {
			h.visible = append(h.visible, h.probe())
		}
	})
	return h
}

// expect runs step and checks that it succeeded and ran the hook want
// times.
func (h *hooked) expect(t *testing.T, what string, want int, step func() error) {
	t.Helper()
	before := h.calls
	if err := step(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got := h.calls - before; got != want {
		t.Errorf("%s ran the directory hook %d times, want %d", what, got, want)
	}
}

// TestDirectoryHook: every committed write to users, groups or memberships
// runs the hook once, after the commit (a transaction once, at its end);
// creating users and groups, other tables, failed writes and rolled-back
// transactions do not.
func TestDirectoryHook(t *testing.T) {
	for _, b := range backends.All {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			h := newHooked(t, b.Open)
			u := store.User{Email: "ada@example.com", Name: "Ada"}
			g := store.Group{Name: "staff"}
			h.expect(t, "CreateUser", 0, func() error { return h.CreateUser(ctx, &u) })
			h.expect(t, "CreateGroup", 0, func() error { return h.CreateGroup(ctx, &g) })
			h.expect(t, "Record", 0, func() error { return h.Record(ctx, &audit.Event{Type: "test", Actor: "t"}) })
			h.expect(t, "CreateApp", 0, func() error { return h.CreateApp(ctx, &store.App{Name: "app", EntityID: "urn:app"}) })

			// The hook runs once the change is committed: another
			// connection sees it.
			h.probe = func() bool {
				got, err := h.User(context.WithoutCancel(ctx), u.ID)
				return err == nil && got.Disabled
			}
			u.Disabled = true
			h.expect(t, "UpdateUser", 1, func() error { return h.UpdateUser(ctx, u) })
			h.probe = nil
			if len(h.visible) != 1 || !h.visible[0] {
				t.Errorf("the hook ran before the change was visible: %v", h.visible)
			}

			h.expect(t, "AddMember", 1, func() error { return h.AddMember(ctx, g.ID, u.ID) })
			h.expect(t, "RemoveMember", 1, func() error { return h.RemoveMember(ctx, g.ID, u.ID) })
			h.expect(t, "AddMembers", 1, func() error { _, err := h.AddMembers(ctx, g.ID, []int64{u.ID}); return err })
			h.expect(t, "RemoveMembers", 1, func() error { _, err := h.RemoveMembers(ctx, g.ID, []int64{u.ID}); return err })
			h.expect(t, "RenameGroup", 1, func() error { return h.RenameGroup(ctx, g.ID, "people") })
			g.Name = "staff"
			h.expect(t, "UpdateGroup", 1, func() error { return h.UpdateGroup(ctx, g) })
			h.expect(t, "a transaction of three directory writes", 1, func() error {
				return h.InTx(ctx, func(tx store.Tx) error {
					if err := tx.AddMember(ctx, g.ID, u.ID); err != nil {
						return err
					}
					u.Name = "Ada L."
					if err := tx.UpdateUser(ctx, u); err != nil {
						return err
					}
					return tx.RenameGroup(ctx, g.ID, "team")
				})
			})
			h.expect(t, "a transaction of other writes", 0, func() error {
				return h.InTx(ctx, func(tx store.Tx) error {
					return tx.CreateApp(ctx, &store.App{Name: "app2", EntityID: "urn:app2"})
				})
			})

			before := h.calls
			rollback := errors.New("roll back")
			err := h.InTx(ctx, func(tx store.Tx) error {
				if err := tx.RemoveMember(ctx, g.ID, u.ID); err != nil {
					return err
				}
				return rollback
			})
			if !errors.Is(err, rollback) || h.calls != before {
				t.Errorf("a rolled-back transaction: err %v, %d hook calls", err, h.calls-before)
			}
			if err := h.UpdateUser(ctx, store.User{ID: u.ID + 1000, Email: "nobody@example.com"}); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("UpdateUser of a missing user = %v", err)
			}
			if h.calls != before {
				t.Error("a failed write ran the hook")
			}

			h.expect(t, "DeleteGroup", 1, func() error { return h.DeleteGroup(ctx, g.ID) })
			h.expect(t, "DeleteUser", 1, func() error { return h.DeleteUser(ctx, u.ID) })
		})
	}
}

package sqlstore_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/storetest/backends"
)

// hooked is a store whose directory hook records the users of each call
// (nil: a group changed), and whether the write was visible to another
// reader when it ran.
type hooked struct {
	store.Store
	calls   [][]int64
	visible []bool
	probe   func() bool
}

func newHooked(t *testing.T, open func(*testing.T) store.Store) *hooked {
	h := &hooked{Store: open(t)}
	h.Store.(interface {
		OnDirectoryChange(func(context.Context, []int64))
	}).OnDirectoryChange(func(_ context.Context, users []int64) {
		h.calls = append(h.calls, users)
		if h.probe != nil {
			h.visible = append(h.visible, h.probe())
		}
	})
	return h
}

// everyone stands for a call without users: a group changed.
var everyone = []int64(nil)

// expect runs step and checks that it succeeded and ran the hook once per
// entry of want, with those users.
func (h *hooked) expect(t *testing.T, what string, step func() error, want ...[]int64) {
	t.Helper()
	before := len(h.calls)
	if err := step(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	got := h.calls[before:]
	if len(got) != len(want) {
		t.Fatalf("%s ran the directory hook with %v, want %v", what, got, want)
	}
	for i := range want {
		if (want[i] == nil) != (got[i] == nil) || !slices.Equal(got[i], want[i]) {
			t.Errorf("%s ran the directory hook with %v, want %v", what, got, want)
		}
	}
}

// TestDirectoryHook: every committed write to users, groups, memberships or
// enrolments runs the hook once, after the commit (a transaction once, at
// its end), with the users concerned (none for a group itself);
// creating users and groups, other tables, failed writes and rolled-back
// transactions do not.
func TestDirectoryHook(t *testing.T) {
	for _, b := range backends.All {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			h := newHooked(t, b.Open)
			u := store.User{Email: "ada@example.com", Name: "Ada"}
			g := store.Group{Name: "staff"}
			h.expect(t, "CreateUser", func() error { return h.CreateUser(ctx, &u) })
			h.expect(t, "CreateGroup", func() error { return h.CreateGroup(ctx, &g) })
			h.expect(t, "Record", func() error { return h.Record(ctx, &audit.Event{Type: "test", Actor: "t"}) })
			h.expect(t, "CreateApp", func() error { return h.CreateApp(ctx, &store.App{Name: "app", EntityID: "urn:app"}) })
			other := store.User{Email: "bo@example.com"}
			h.expect(t, "CreateUser", func() error { return h.CreateUser(ctx, &other) })

			// The hook runs once the change is committed: another
			// connection sees it.
			h.probe = func() bool {
				got, err := h.User(context.WithoutCancel(ctx), u.ID)
				return err == nil && got.Disabled
			}
			u.Disabled = true
			h.expect(t, "UpdateUser", func() error { return h.UpdateUser(ctx, u) }, []int64{u.ID})
			h.probe = nil
			if len(h.visible) != 1 || !h.visible[0] {
				t.Errorf("the hook ran before the change was visible: %v", h.visible)
			}

			h.expect(t, "AddMember", func() error { return h.AddMember(ctx, g.ID, u.ID) }, []int64{u.ID})
			h.expect(t, "RemoveMember", func() error { return h.RemoveMember(ctx, g.ID, u.ID) }, []int64{u.ID})
			h.expect(t, "AddMembers", func() error { _, err := h.AddMembers(ctx, g.ID, []int64{other.ID, u.ID}); return err },
				[]int64{u.ID, other.ID})
			h.expect(t, "AddMembers of members", func() error { _, err := h.AddMembers(ctx, g.ID, []int64{u.ID}); return err })
			h.expect(t, "RemoveMembers", func() error { _, err := h.RemoveMembers(ctx, g.ID, []int64{u.ID}); return err },
				[]int64{u.ID})
			h.expect(t, "RenameGroup", func() error { return h.RenameGroup(ctx, g.ID, "people") }, everyone)
			g.Name = "staff"
			h.expect(t, "UpdateGroup", func() error { return h.UpdateGroup(ctx, g) }, everyone)
			h.expect(t, "a transaction of writes to two users", func() error {
				return h.InTx(ctx, func(tx store.Tx) error {
					if err := tx.AddMember(ctx, g.ID, u.ID); err != nil {
						return err
					}
					u.Name = "Ada L."
					if err := tx.UpdateUser(ctx, u); err != nil {
						return err
					}
					return tx.RemoveMember(ctx, g.ID, other.ID)
				})
			}, []int64{min(u.ID, other.ID), max(u.ID, other.ID)})
			h.expect(t, "a transaction with a group change", func() error {
				return h.InTx(ctx, func(tx store.Tx) error {
					if err := tx.RemoveMember(ctx, g.ID, u.ID); err != nil {
						return err
					}
					return tx.RenameGroup(ctx, g.ID, "team")
				})
			}, everyone)
			h.expect(t, "a transaction of other writes", func() error {
				return h.InTx(ctx, func(tx store.Tx) error {
					return tx.CreateApp(ctx, &store.App{Name: "app2", EntityID: "urn:app2"})
				})
			})

			before := len(h.calls)
			rollback := errors.New("roll back")
			err := h.InTx(ctx, func(tx store.Tx) error {
				if err := tx.AddMember(ctx, g.ID, u.ID); err != nil {
					return err
				}
				return rollback
			})
			if !errors.Is(err, rollback) || len(h.calls) != before {
				t.Errorf("a rolled-back transaction: err %v, hook calls %v", err, h.calls[before:])
			}
			if err := h.UpdateUser(ctx, store.User{ID: u.ID + 1000, Email: "nobody@example.com"}); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("UpdateUser of a missing user = %v", err)
			}
			if len(h.calls) != before {
				t.Error("a failed write ran the hook")
			}

			e := store.Enrolment{UserID: other.ID, Factor: "totp", Name: "phone", Confirmed: true}
			h.expect(t, "CreateEnrolment", func() error { return h.CreateEnrolment(ctx, &e) }, []int64{other.ID})
			e.Name = "old phone"
			h.expect(t, "UpdateEnrolment", func() error { return h.UpdateEnrolment(ctx, e) }, []int64{other.ID})
			h.expect(t, "DeleteEnrolment", func() error { return h.DeleteEnrolment(ctx, e.ID) }, []int64{other.ID})
			if err := h.DeleteEnrolment(ctx, e.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("DeleteEnrolment of a deleted enrolment = %v, want ErrNotFound", err)
			}
			if err := h.UpdateEnrolment(ctx, e); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("UpdateEnrolment of a deleted enrolment = %v, want ErrNotFound", err)
			}
			h.expect(t, "CreateEnrolment", func() error { return h.CreateEnrolment(ctx, &e) }, []int64{other.ID})
			h.expect(t, "DeleteUserEnrolments", func() error { _, err := h.DeleteUserEnrolments(ctx, other.ID); return err },
				[]int64{other.ID})
			h.expect(t, "DeleteUserEnrolments of none", func() error { _, err := h.DeleteUserEnrolments(ctx, other.ID); return err })

			h.expect(t, "DeleteGroup", func() error { return h.DeleteGroup(ctx, g.ID) }, everyone)
			h.expect(t, "DeleteUser", func() error { return h.DeleteUser(ctx, u.ID) }, []int64{u.ID})
		})
	}
}

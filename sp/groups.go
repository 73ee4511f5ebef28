package sp

import (
	"context"
	"errors"
	"strings"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/store"
)

// Group mapping bounds: an upstream decides group names, so it must not be
// able to make the directory grow without limit in one login.
const (
	MaxMappedGroups    = 100
	MaxGroupNameLength = 256
)

// groupOwner is the ExternalID of groups the mapping of IdP name created:
// that IdP is their authority, so it also takes members out of them.
func groupOwner(name string) string { return "idp:" + name }

// mapGroups makes the user's groups follow u's groups attribute, when it
// has one (the package doc has the rules): each named group is joined,
// created first when missing; groups this IdP's mapping created and the
// assertion no longer names are left. Groups made otherwise (by an admin or
// SCIM) are only ever joined here. Every change is an audit event by
// "idp:NAME".
func mapGroups(ctx context.Context, tx store.Tx, u *upstreamIdP, a *Assertion, user store.User) error {
	if u.Settings.GroupsAttribute == "" {
		return nil
	}
	named := map[string]bool{} // lower case
	var names []string         // as sent, for creation
	for name, vals := range a.Attributes {
		if !strings.EqualFold(name, u.Settings.GroupsAttribute) {
			continue
		}
		for _, v := range vals {
			v = strings.TrimSpace(v)
			if v != "" && len(v) <= MaxGroupNameLength && len(names) < MaxMappedGroups && !named[strings.ToLower(v)] {
				named[strings.ToLower(v)] = true
				names = append(names, v)
			}
		}
	}
	have, err := tx.GroupsOf(ctx, []int64{user.ID})
	if err != nil {
		return err
	}
	member := map[string]bool{}
	for _, g := range have[user.ID] {
		member[strings.ToLower(g.Name)] = true
		if g.ExternalID == groupOwner(u.Name) && !named[strings.ToLower(g.Name)] {
			if err := leave(ctx, tx, u, g, user); err != nil {
				return err
			}
		}
	}
	for _, name := range names {
		if member[strings.ToLower(name)] {
			continue
		}
		if err := join(ctx, tx, u, name, user); err != nil {
			return err
		}
	}
	return nil
}

func join(ctx context.Context, tx store.Tx, u *upstreamIdP, name string, user store.User) error {
	g, err := tx.GroupByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		g = store.Group{Name: name, ExternalID: groupOwner(u.Name)}
		err = errors.Join(tx.CreateGroup(ctx, &g), tx.Record(ctx, &audit.Event{Type: audit.GroupCreated,
			Actor: "idp:" + u.Name, Subject: g.Name, Outcome: audit.Success, Details: map[string]string{"idp": u.Name}}))
	}
	if err != nil {
		return err
	}
	return errors.Join(tx.AddMember(ctx, g.ID, user.ID), tx.Record(ctx, &audit.Event{Type: audit.GroupMemberAdd,
		Actor: "idp:" + u.Name, Subject: user.Email, Outcome: audit.Success, Details: map[string]string{"group": g.Name}}))
}

func leave(ctx context.Context, tx store.Tx, u *upstreamIdP, g store.Group, user store.User) error {
	return errors.Join(tx.RemoveMember(ctx, g.ID, user.ID), tx.Record(ctx, &audit.Event{Type: audit.GroupMemberDel,
		Actor: "idp:" + u.Name, Subject: user.Email, Outcome: audit.Success, Details: map[string]string{"group": g.Name}}))
}

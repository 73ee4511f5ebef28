package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/store"
)

func (c *cli) groups(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("groups needs a subcommand: add, list, members, delete")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "add", "delete":
		return c.groupsChange(ctx, sub, rest)
	case "list":
		return c.groupsList(ctx, rest)
	case "members":
		return c.groupsMembers(ctx, rest)
	default:
		return usagef("unknown groups subcommand %q", sub)
	}
}

func (c *cli) groupsChange(ctx context.Context, op string, args []string) error {
	fs := c.flags("groups " + op)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] == "" {
		return usagef("groups %s needs one group name", op)
	}
	st, _, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	name := pos[0]
	err = st.InTx(ctx, func(tx store.Tx) error {
		typ := audit.GroupCreated
		if op == "add" {
			err = tx.CreateGroup(ctx, &store.Group{Name: name})
		} else {
			typ = audit.GroupDeleted
			var g store.Group
			if g, err = tx.GroupByName(ctx, name); err == nil {
				err = tx.DeleteGroup(ctx, g.ID)
			}
		}
		if err != nil {
			return err
		}
		return tx.Record(ctx, &audit.Event{Type: typ, Actor: "cli", Subject: name, Outcome: audit.Success})
	})
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("a group named %q already exists", name)
	}
	if err != nil {
		return notFound(err, fmt.Sprintf("group %q", name))
	}
	if *asJSON {
		return c.printJSON(map[string]string{"name": name, "action": op})
	}
	fmt.Fprintf(c.stdout, "Group %s %s.\n", name, map[string]string{"add": "created", "delete": "deleted"}[op])
	return nil
}

// groupView is a group as the CLI prints it.
type groupView struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Members int    `json:"members"`
}

func (c *cli) groupsList(ctx context.Context, args []string) error {
	return runListing(ctx, c, args, listing[groupView]{
		name:   "groups list",
		header: []string{"ID", "NAME", "MEMBERS"},
		load: func(ctx context.Context, st store.Store, _ *config.Config) ([]groupView, error) {
			groups, err := st.ListGroups(ctx)
			views := make([]groupView, 0, len(groups))
			for _, g := range groups {
				members, err := st.Members(ctx, g.ID)
				if err != nil {
					return nil, err
				}
				views = append(views, groupView{ID: g.ID, Name: g.Name, Members: len(members)})
			}
			return views, err
		},
		row: func(v groupView) []string {
			return []string{strconv.FormatInt(v.ID, 10), v.Name, strconv.Itoa(v.Members)}
		},
	})
}

// groupsMembers lists a group's members, after adding and removing those
// named by --add and --remove in one transaction.
func (c *cli) groupsMembers(ctx context.Context, args []string) error {
	fs := c.flags("groups members")
	asJSON := fs.Bool("json", false, "print JSON")
	var add, remove stringList
	fs.Var(&add, "add", "add this user (email; repeatable)")
	fs.Var(&remove, "remove", "remove this user (email; repeatable)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("groups members needs one group name")
	}
	st, _, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	var members []store.User
	err = st.InTx(ctx, func(tx store.Tx) error {
		g, err := tx.GroupByName(ctx, pos[0])
		if err != nil {
			return notFound(err, fmt.Sprintf("group %q", pos[0]))
		}
		if err := changeMembers(ctx, tx, g, add, remove); err != nil {
			return err
		}
		members, err = tx.Members(ctx, g.ID)
		return err
	})
	if err != nil {
		return err
	}
	return c.printMembers(members, *asJSON)
}

func changeMembers(ctx context.Context, tx store.Tx, g store.Group, add, remove []string) error {
	for _, set := range []struct {
		emails []string
		typ    string
		apply  func(context.Context, int64, int64) error
	}{{add, audit.GroupMemberAdd, tx.AddMember}, {remove, audit.GroupMemberDel, tx.RemoveMember}} {
		for _, email := range set.emails {
			u, err := tx.UserByEmail(ctx, email)
			if err != nil {
				return notFound(err, "user "+email)
			}
			if err := set.apply(ctx, g.ID, u.ID); err != nil {
				return err
			}
			if err := tx.Record(ctx, &audit.Event{Type: set.typ, Actor: "cli", Subject: u.Email,
				Outcome: audit.Success, Details: map[string]string{"group": g.Name}}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *cli) printMembers(members []store.User, asJSON bool) error {
	views := make([]userView, 0, len(members))
	for _, u := range members {
		views = append(views, viewUser(u, nil))
	}
	if asJSON {
		return c.printJSON(views)
	}
	rows := make([][]string, 0, len(views))
	for _, v := range views {
		rows = append(rows, []string{strconv.FormatInt(v.ID, 10), v.Email, v.Name, yes(v.Disabled)})
	}
	c.table([]string{"ID", "EMAIL", "NAME", "DISABLED"}, rows)
	return nil
}

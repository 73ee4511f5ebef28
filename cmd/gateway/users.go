package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/internal/server"
	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/password"
	"github.com/portcullis/portcullis/store"
)

func (c *cli) users(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("users needs a subcommand: add, list, disable, enable, delete, reset-mfa")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "add":
		return c.usersAdd(ctx, rest)
	case "list":
		return c.usersList(ctx, rest)
	case "disable", "enable", "delete":
		return c.usersChange(ctx, sub, rest)
	case "reset-mfa":
		return c.usersResetMFA(ctx, rest)
	default:
		return usagef("unknown users subcommand %q", sub)
	}
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// userView is a user as the CLI prints it.
type userView struct {
	ID              int64    `json:"id"`
	Email           string   `json:"email"`
	Name            string   `json:"name"`
	Admin           bool     `json:"admin"`
	Disabled        bool     `json:"disabled"`
	PasswordReset   bool     `json:"password_reset_required"`
	Groups          []string `json:"groups"`
	CreatedAt       string   `json:"created_at"`
	LastLoginAt     string   `json:"last_login_at,omitempty"`
	OneTimePassword string   `json:"one_time_password,omitempty"`
}

func (c *cli) usersAdd(ctx context.Context, args []string) error {
	fs := c.flags("users add")
	name := fs.String("name", "", "full name")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	admin := fs.Bool("admin", false, "make the user an administrator")
	asJSON := fs.Bool("json", false, "print JSON")
	var groups stringList
	fs.Var(&groups, "group", "add the user to this group (repeatable)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || !validEmail(pos[0]) {
		return usagef("users add needs one email address")
	}
	st, cfg, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	pw, oneTime, err := c.newPassword(*pwStdin, cfg.Passwords.MinLength)
	if err != nil {
		return err
	}
	hash, err := (&password.Hasher{Params: password.Params(cfg.Passwords.Argon2)}).Hash(pw)
	if err != nil {
		return err
	}
	u := store.User{Email: pos[0], Name: *name, Admin: *admin, PasswordHash: hash, PasswordResetRequired: oneTime}
	if err := createUser(ctx, st, &u, groups); err != nil {
		return err
	}
	v := viewUser(u, groups)
	if oneTime {
		v.OneTimePassword = pw
	}
	if *asJSON {
		return c.printJSON(v)
	}
	fmt.Fprintf(c.stdout, "Created user %s (id %d).\n", u.Email, u.ID)
	if oneTime {
		fmt.Fprintf(c.stdout, "One-time password: %s  (to be changed at first sign-in)\n", pw)
	}
	return nil
}

// newPassword reads the password from stdin, or makes a one-time one.
func (c *cli) newPassword(fromStdin bool, minLen int) (pw string, oneTime bool, err error) {
	if !fromStdin {
		return rand.Text(), true, nil
	}
	line, err := bufio.NewReader(c.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", false, usagef("--password-stdin: no password on standard input")
	}
	pw = strings.TrimRight(line, "\r\n")
	if len([]rune(pw)) < minLen {
		return "", false, usagef("the password must have at least %d characters", minLen)
	}
	return pw, false, nil
}

// createUser inserts u and its memberships with the audit events, in one
// transaction: an unknown group leaves nothing behind.
func createUser(ctx context.Context, st store.Store, u *store.User, groups []string) error {
	err := st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		for _, name := range groups {
			g, err := tx.GroupByName(ctx, name)
			if err != nil {
				return notFound(err, fmt.Sprintf("group %q (create it with: gateway groups add %s)", name, name))
			}
			if err := tx.AddMember(ctx, g.ID, u.ID); err != nil {
				return err
			}
		}
		return tx.Record(ctx, &audit.Event{Type: audit.UserCreated, Actor: "cli", Subject: u.Email,
			Outcome: audit.Success, Details: map[string]string{"admin": strconv.FormatBool(u.Admin),
				"groups": strings.Join(groups, ",")}})
	})
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("a user with email %s already exists", u.Email)
	}
	return err
}

func (c *cli) usersList(ctx context.Context, args []string) error {
	return runListing(ctx, c, args, listing[userView]{
		name:   "users list",
		header: []string{"ID", "EMAIL", "NAME", "ADMIN", "DISABLED", "GROUPS", "LAST LOGIN"},
		load: func(ctx context.Context, st store.Store, _ *config.Config) ([]userView, error) {
			users, _, err := st.ListUsers(ctx, store.UserFilter{})
			views := make([]userView, 0, len(users))
			for _, u := range users {
				gs, err := st.UserGroups(ctx, u.ID)
				if err != nil {
					return nil, err
				}
				views = append(views, viewUser(u, groupNames(gs)))
			}
			return views, err
		},
		row: func(v userView) []string {
			return []string{strconv.FormatInt(v.ID, 10), v.Email, v.Name, yes(v.Admin), yes(v.Disabled),
				strings.Join(v.Groups, ","), orDash(v.LastLoginAt)}
		},
	})
}

// usersChange disables, enables or deletes a user, records it, and ends the
// user's sessions where the session backend is shared (Redis). With
// in-memory sessions the server refuses the user on the next request anyway,
// because it re-reads the user from the store.
func (c *cli) usersChange(ctx context.Context, op string, args []string) error {
	fs := c.flags("users " + op)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("users %s needs one email address", op)
	}
	st, cfg, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	u, changed, err := changeUser(ctx, st, op, pos[0])
	if err != nil {
		return err
	}
	if op != "enable" {
		if err := server.RevokeSessions(ctx, cfg, u.ID, newLogger(cfg, c.stderr)); err != nil {
			return fmt.Errorf("user %s is %sd, but their sessions could not be ended now: %w", u.Email, op, err)
		}
	}
	switch {
	case *asJSON:
		return c.printJSON(map[string]any{"id": u.ID, "email": u.Email, "action": op, "changed": changed})
	case !changed:
		fmt.Fprintf(c.stdout, "User %s was already %sd.\n", u.Email, op)
	default:
		fmt.Fprintf(c.stdout, "User %s %sd.\n", u.Email, op)
	}
	return nil
}

// changeUser applies op to the user in one transaction with its audit event.
// changed is false when the user was already in that state.
func changeUser(ctx context.Context, st store.Store, op, email string) (u store.User, changed bool, err error) {
	types := map[string]string{"disable": audit.UserDisabled, "enable": audit.UserEnabled, "delete": audit.UserDeleted}
	err = st.InTx(ctx, func(tx store.Tx) error {
		if u, err = tx.UserByEmail(ctx, email); err != nil {
			return notFound(err, "user "+email)
		}
		if op == "delete" {
			changed = true
			if err := tx.DeleteUser(ctx, u.ID); err != nil {
				return err
			}
		} else {
			disable := op == "disable"
			if changed = u.Disabled != disable; !changed {
				return nil
			}
			u.Disabled = disable
			if err := tx.UpdateUser(ctx, u); err != nil {
				return err
			}
		}
		return tx.Record(ctx, &audit.Event{Type: types[op], Actor: "cli", Subject: u.Email, Outcome: audit.Success})
	})
	return u, changed, err
}

func viewUser(u store.User, groups []string) userView {
	if groups == nil {
		groups = []string{}
	}
	v := userView{ID: u.ID, Email: u.Email, Name: u.Name, Admin: u.Admin, Disabled: u.Disabled,
		PasswordReset: u.PasswordResetRequired, Groups: groups, CreatedAt: u.CreatedAt.UTC().Format(time.RFC3339)}
	if !u.LastLoginAt.IsZero() {
		v.LastLoginAt = u.LastLoginAt.UTC().Format(time.RFC3339)
	}
	return v
}

func groupNames(gs []store.Group) []string {
	names := make([]string, 0, len(gs))
	for _, g := range gs {
		names = append(names, g.Name)
	}
	return names
}

func validEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && domain != "" && !strings.ContainsAny(s, " \t\r\n<>,;\"")
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// usersResetMFA removes every second factor of a user and ends their
// sessions (in a shared session backend), so a session that presented a
// lost or stolen factor cannot go on using it.
func (c *cli) usersResetMFA(ctx context.Context, args []string) error {
	fs := c.flags("users reset-mfa")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("users reset-mfa needs one email address")
	}
	st, cfg, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	u, n, err := mfa.ResetUser(ctx, st, pos[0], "cli")
	if err != nil {
		return notFound(err, "user "+pos[0])
	}
	if err := server.RevokeSessions(ctx, cfg, u.ID, newLogger(cfg, c.stderr)); err != nil {
		return fmt.Errorf("the MFA of %s is reset, but their sessions could not be ended now: %w", u.Email, err)
	}
	if *asJSON {
		return c.printJSON(map[string]any{"id": u.ID, "email": u.Email, "action": "reset-mfa", "removed": n})
	}
	fmt.Fprintf(c.stdout, "Removed %d verification method(s) of %s; they set up a new one at their next sign-in.\n", n, u.Email)
	return nil
}

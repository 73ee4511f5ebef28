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

// The user lifecycle commands (§2.2–§2.7). Each runs in one transaction
// with its audit events; sessions are revoked after the commit.
func init() {
	commands["updateuser"] = updateUser
	commands["updateemail"] = updateEmail
	commands["deluser"] = delUser
	commands["disableuser"] = func(c *call) (any, error) { return setDisabled(c, true) }
	commands["enableuser"] = func(c *call) (any, error) { return setDisabled(c, false) }
	commands["reinviteuser"] = reinviteUser
	commands["resetpassword"] = resetPassword
	commands["requiremasterpasswordchange"] = requirePasswordChange
	commands["disablemultifactor"] = disableMultifactor
}

// Audit event types this package records beyond audit's own.
const (
	EventInvited        = "user.invited"
	EventPasswordReset  = "user.password_reset"
	EventChangeRequired = "user.password_change_required"
)

// errNoUser is a logical failure: the named user does not exist.
type errNoUser struct{ email string }

func (e errNoUser) Error() string { return "No such user: " + e.email }

// usernameData decodes {"username": "..."}.
func usernameData(c *call) (string, error) {
	var d struct {
		Username string `json:"username"`
	}
	if err := c.decodeData(&d); err != nil {
		return "", err
	}
	if strings.TrimSpace(d.Username) == "" {
		return "", errors.New("username is required")
	}
	return strings.TrimSpace(d.Username), nil
}

// findUser reads a user by email; a missing one is errNoUser.
func findUser(ctx context.Context, tx store.Tx, email string) (store.User, error) {
	u, err := tx.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return u, errNoUser{email}
	}
	return u, err
}

// answer turns a command's outcome into its answer: a client error is
// FAIL with its message, a fault goes up.
func answer(res any, err error) (any, error) {
	var nu errNoUser
	switch {
	case err == nil:
		return res, nil
	case errors.As(err, &nu), isClientError(err):
		return fail(err.Error()), nil
	}
	return nil, err
}

// clientError marks a message meant for the client.
type clientError struct{ msg string }

func (e clientError) Error() string { return e.msg }

func clientErrorf(format string, args ...any) error { return clientError{fmt.Sprintf(format, args...)} }

func isClientError(err error) bool {
	var ce clientError
	return errors.As(err, &ce) || strings.HasPrefix(err.Error(), "Invalid data") || err.Error() == "username is required"
}

func updateUser(c *call) (any, error) {
	var d struct {
		Username        string  `json:"username"`
		Fullname        *string `json:"fullname"`
		DuoUsername     *string `json:"duousername"`
		SecurIDUsername *string `json:"securidusername"`
	}
	if err := c.decodeData(&d); err != nil {
		return fail(err.Error()), nil
	}
	if strings.TrimSpace(d.Username) == "" {
		return fail("username is required"), nil
	}
	ctx := c.r.Context()
	return answer(ok(), c.h.Store.InTx(ctx, func(tx store.Tx) error {
		u, err := findUser(ctx, tx, strings.TrimSpace(d.Username))
		if err != nil {
			return err
		}
		if d.Fullname != nil {
			u.Name = strings.TrimSpace(*d.Fullname)
		}
		setAttr(u.Attributes, "duousername", d.DuoUsername)
		setAttr(u.Attributes, "securidusername", d.SecurIDUsername)
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		return tx.Record(ctx, c.event(audit.UserUpdated, u.Email, nil))
	}))
}

func setAttr(m map[string]string, k string, v *string) {
	if v == nil {
		return
	}
	if *v == "" {
		delete(m, k)
		return
	}
	m[k] = *v
}

// updateEmail renames a login (§2.3). LastPass finalises the change at the
// user's next login; here it takes effect at once (the login is the
// email, and sessions follow the user, not the name). It is limited to 10
// a second per old email, as LastPass's is.
func updateEmail(c *call) (any, error) {
	var d struct {
		Old string `json:"oldemail"`
		New string `json:"newemail"`
	}
	if err := c.decodeData(&d); err != nil {
		return fail(err.Error()), nil
	}
	d.Old, d.New = strings.TrimSpace(d.Old), strings.TrimSpace(d.New)
	if d.Old == "" || d.New == "" {
		return fail("oldemail and newemail are required"), nil
	}
	if !c.h.limiter.allow("updateemail:"+strings.ToLower(d.Old), 10, c.h.now()) {
		return nil, errThrottled
	}
	ctx := c.r.Context()
	return answer(ok(), c.h.Store.InTx(ctx, func(tx store.Tx) error {
		u, err := findUser(ctx, tx, d.Old)
		if err != nil {
			return err
		}
		u.Email = d.New
		if err := tx.UpdateUser(ctx, u); errors.Is(err, store.ErrConflict) {
			return clientErrorf("Email already in use: %s", d.New)
		} else if err != nil {
			return err
		}
		return tx.Record(ctx, c.event(audit.UserUpdated, d.New, map[string]string{"previous_email": d.Old}))
	}))
}

// delUser acts on deleteaction (§2.4): 0 deactivates (disable, end the
// sessions); 1 (remove from the company) and 2 (delete) both delete the
// user, as a gateway has no personal account to leave behind; 3 (uninvite)
// deletes a user who has never logged in and refuses otherwise.
func delUser(c *call) (any, error) {
	var d struct {
		Username     string          `json:"username"`
		DeleteAction json.RawMessage `json:"deleteaction"`
	}
	if err := c.decodeData(&d); err != nil {
		return fail(err.Error()), nil
	}
	if strings.TrimSpace(d.Username) == "" {
		return fail("username is required"), nil
	}
	action, err := scalar(d.DeleteAction)
	if action == "" {
		action = "0"
	}
	if err != nil || len(action) != 1 || action[0] < '0' || action[0] > '3' {
		return fail("deleteaction must be 0, 1, 2 or 3"), nil
	}
	ctx := c.r.Context()
	email := strings.TrimSpace(d.Username)
	var u store.User
	var already bool
	err = c.h.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if u, err = findUser(ctx, tx, email); err != nil {
			return err
		}
		switch action {
		case "0":
			if already = u.Disabled; already {
				return nil
			}
			u.Disabled = true
			if err := tx.UpdateUser(ctx, u); err != nil {
				return err
			}
			return tx.Record(ctx, c.event(audit.UserDisabled, u.Email, map[string]string{"deleteaction": action}))
		case "3":
			if !u.LastLoginAt.IsZero() {
				return clientErrorf("User is not a pending invitation: %s", u.Email)
			}
		}
		if err := tx.DeleteUser(ctx, u.ID); err != nil {
			return err
		}
		return tx.Record(ctx, c.event(audit.UserDeleted, u.Email, map[string]string{"deleteaction": action}))
	})
	if err == nil {
		c.h.revoke(ctx, u.ID)
	}
	if already {
		return obj("status", "OK", "error", "User already disabled: "+u.Email), nil
	}
	return answer(ok(), err)
}

// setDisabled is disableuser and enableuser (§2.5): data is an array of
// emails, or (a client error the spec tells us to tolerate) an object with
// username or an array of such objects.
func setDisabled(c *call, disable bool) (any, error) {
	emails, err := emailList(c.req.Data)
	if err != nil {
		return fail(err.Error()), nil
	}
	ctx := c.r.Context()
	var changed, unchanged, missing []string
	var revoke []int64
	err = c.h.Store.InTx(ctx, func(tx store.Tx) error {
		for _, email := range emails {
			u, err := findUser(ctx, tx, email)
			if errors.As(err, new(errNoUser)) {
				missing = append(missing, email)
				continue
			}
			if err != nil {
				return err
			}
			if u.Disabled == disable {
				unchanged = append(unchanged, u.Email)
				continue
			}
			u.Disabled = disable
			if err := tx.UpdateUser(ctx, u); err != nil {
				return err
			}
			typ := audit.UserEnabled
			if disable {
				typ = audit.UserDisabled
				revoke = append(revoke, u.ID)
			}
			if err := tx.Record(ctx, c.event(typ, u.Email, nil)); err != nil {
				return err
			}
			changed = append(changed, u.Email)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, id := range revoke {
		c.h.revoke(ctx, id)
	}
	key := "enabled_users"
	if disable {
		key = "disabled_users"
	}
	res := obj("status", "success", key, nonNil(changed), "unchanged_users", nonNil(unchanged))
	if len(missing) > 0 {
		res = append(res, Field{"error", "No such user: " + strings.Join(missing, ", ")})
	}
	return res, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// emailList reads an array of emails, an object with username, or an
// array of such objects.
func emailList(raw json.RawMessage) ([]string, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		list = []json.RawMessage{raw}
	}
	var out []string
	for _, item := range list {
		var s string
		if err := json.Unmarshal(item, &s); err == nil {
			out = append(out, strings.TrimSpace(s))
			continue
		}
		var o struct {
			Username string `json:"username"`
		}
		if err := json.Unmarshal(item, &o); err != nil || strings.TrimSpace(o.Username) == "" {
			return nil, errors.New("data must be an array of emails")
		}
		out = append(out, strings.TrimSpace(o.Username))
	}
	if len(out) == 0 {
		return nil, errors.New("data must be an array of emails")
	}
	return out, nil
}

// reinviteUser (§2.6): the gateway sends no mail; the invitation is the
// one-time password or SSO the admin arranged. It records the event, so
// that reporting shows it, and fails for an unknown user.
func reinviteUser(c *call) (any, error) {
	return simpleUserCommand(c, func(ctx context.Context, tx store.Tx, u *store.User) (string, bool, error) {
		return EventInvited, false, nil
	})
}

// resetPassword (§2.6): LastPass mails a reset link. Here the user's
// sessions end on every node and the next sign-in must choose a new
// password, so SSO and forward-auth are blocked until they have. Unknown
// users get the error as an array, as LastPass's answer has it.
func resetPassword(c *call) (any, error) {
	res, err := simpleUserCommand(c, func(ctx context.Context, tx store.Tx, u *store.User) (string, bool, error) {
		u.PasswordResetRequired = true
		return EventPasswordReset, true, tx.UpdateUser(ctx, *u)
	})
	if o, isObj := res.(Object); isObj && len(o) == 2 && o[0].Value == "FAIL" {
		msg, _ := o[1].Value.(string)
		if email, found := strings.CutPrefix(msg, "No such user: "); found {
			return obj("status", "FAIL", "error", []string{"user not found: " + email}), nil
		}
	}
	return res, err
}

// requirePasswordChange (§2.6): the next sign-in must change the
// password; current sessions go on.
func requirePasswordChange(c *call) (any, error) {
	return simpleUserCommand(c, func(ctx context.Context, tx store.Tx, u *store.User) (string, bool, error) {
		u.PasswordResetRequired = true
		return EventChangeRequired, false, tx.UpdateUser(ctx, *u)
	})
}

// simpleUserCommand runs a command on {"username"}: change may update the
// user and says which event to record and whether to end their sessions.
func simpleUserCommand(c *call, change func(ctx context.Context, tx store.Tx, u *store.User) (string, bool, error)) (any, error) {
	email, err := usernameData(c)
	if err != nil {
		return fail(err.Error()), nil
	}
	ctx := c.r.Context()
	var u store.User
	var revoke bool
	err = c.h.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if u, err = findUser(ctx, tx, email); err != nil {
			return err
		}
		typ, rv, err := change(ctx, tx, &u)
		if err != nil {
			return err
		}
		revoke = rv
		return tx.Record(ctx, c.event(typ, u.Email, nil))
	})
	if err == nil && revoke {
		c.h.revoke(ctx, u.ID)
	}
	return answer(ok(), err)
}

// disableMultifactor (§2.6) removes every MFA enrolment of the user (as
// `gateway users reset-mfa`); OK also when there was none.
func disableMultifactor(c *call) (any, error) {
	email, err := usernameData(c)
	if err != nil {
		return fail(err.Error()), nil
	}
	_, _, err = c.h.ResetMFA(c.r.Context(), c.h.Store, email, c.actor)
	if errors.Is(err, store.ErrNotFound) {
		return fail("No such user: " + email), nil
	}
	return answer(ok(), err)
}

// revoke ends a user's sessions on every node. A failure is logged: the
// change is committed, and every request checks that its user exists and
// is enabled.
func (h *Handler) revoke(ctx context.Context, id int64) {
	if _, err := h.Sessions.RevokeUser(ctx, id); err != nil {
		h.Logger.Error("enterprise api: revoking sessions failed; the user is refused on their next request anyway",
			"user", id, "err", err)
	}
}

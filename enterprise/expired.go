package enterprise

// expiredmasterpwlist (lastpass-apis.md §2.12). Decisions:
//   - The directory has no password expiry policy, so "expired" means what
//     the gateway enforces: the user must choose a new password before
//     they can sign in again (PasswordResetRequired: a temporary password
//     from batchadd, resetpassword, requiremasterpasswordchange). Only
//     active users with a password are listed; a user without one signs
//     in elsewhere (§2.12's "non-federated").
//   - Users come in ID order. limit is 1–500 (absent or 0: 500; more: 500);
//     continuation_token is the user_id of the last item of the previous
//     call (a string), so paging is stable while users come and go.
//   - continuation.remaining_item_count is how many expired users follow
//     the page; when none does, the token is null (a client that loops
//     while the token is set, or while the count is positive, stops).
//   - Each call records an api.expiredmasterpwlist event before it reads.

import (
	"encoding/json"
	"strconv"

	"github.com/portcullis/portcullis/store"
)

func init() { commands["expiredmasterpwlist"] = expiredList }

// maxExpiredItems is the largest and default limit (§2.12).
const maxExpiredItems = 500

// expiredScan is how many users one store call reads.
var expiredScan = 5000

func expiredList(c *call) (any, error) {
	limit, after, msg := parseExpired(c)
	if msg != "" {
		return fail(msg), nil
	}
	ctx := c.r.Context()
	if err := c.h.Store.Record(ctx, c.event(EventExpiredList, "", nil)); err != nil {
		return nil, err
	}
	items, remaining, last := []Object{}, 0, after
	active := false
	f := store.UserFilter{Disabled: &active, AfterID: after, Limit: expiredScan}
	for {
		users, _, err := c.h.Store.ListUsers(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			switch {
			case u.PasswordHash == "" || !u.PasswordResetRequired:
			case len(items) < limit:
				items = append(items, obj("user_id", u.ID, "user_name", u.Email, "last_pw_change", c.h.stamp(u.PasswordChangedAt)))
				last = u.ID
			default:
				remaining++
			}
		}
		if len(users) < expiredScan {
			break
		}
		f.AfterID = users[len(users)-1].ID
	}
	var token any // null: nothing remains
	if remaining > 0 {
		token = strconv.FormatInt(last, 10)
	}
	return obj("status", "Success", "continuation", obj("token", token, "remaining_item_count", remaining),
		"items", items), nil
}

// parseExpired reads limit and continuation_token; msg is the FAIL message
// of a bad one.
func parseExpired(c *call) (limit int, after int64, msg string) {
	var d map[string]json.RawMessage
	if err := c.decodeData(&d); err != nil {
		return 0, 0, err.Error()
	}
	limit = maxExpiredItems
	if s, err := scalar(d["limit"]); err != nil || s != "" {
		n, perr := strconv.Atoi(s)
		if err != nil || perr != nil || n < 0 {
			return 0, 0, "Invalid limit: want a number from 1 to 500"
		}
		if n > 0 && n < maxExpiredItems {
			limit = n
		}
	}
	if s, err := scalar(d["continuation_token"]); err != nil || s != "" {
		n, perr := strconv.ParseInt(s, 10, 64)
		if err != nil || perr != nil || n < 0 {
			return 0, 0, "Invalid continuation_token"
		}
		after = n
	}
	return limit, after, ""
}

package enterprise

// getuserdata (lastpass-apis.md §2.8), streamed.
//
// Decisions:
//   - Filters username, disabled and admin apply together (§2.8 compat
//     rule). An empty username is no filter; disabled and admin take 0/1,
//     "0"/"1", true/false or "true"/"false"; null or "" is no filter.
//     pagesize and pageindex take an integer or a numeric string;
//     pageindex is 0-based. No pagesize (or 0) answers every matching user
//     at once and ignores pageindex. data may be absent, null or [] (PHP's
//     empty array) for everyone; any other non-object is a FAIL.
//   - total counts every user matching the filters; count the users in
//     this answer, min(pagesize, total-pageindex*pagesize), never below 0,
//     so that clients stopping at count < pagesize and clients stopping at
//     pageindex*pagesize >= total both end. Both are exact for a directory
//     that does not change during the call: a user deleted while the answer
//     streams is left out of Users (the answer is not a snapshot: holding a
//     transaction open while a slow client reads would hold the writers of
//     SQLite).
//   - There is no "invited" key: the directory has no invitation state, so
//     a user who has never signed in is a user like any other, in Users
//     with neverloggedin true. Both recordings lack the key too.
//   - Users is keyed by the user's ID in decimal and is [] when empty (the
//     no-match answer is {"total":0,"count":0,"Users":[]}, as §2.8 and
//     §2.14 say).
//   - Groups maps the name of each group that has a user of this answer to
//     the emails of its members in this answer, by user ID; groups are
//     ordered by name. The answer stays proportional to the page, and the
//     union of the pages is each group's membership among the users the
//     filters select. Groups is left out when no user of the answer is in
//     a group, as in the pagesize:1 recording, so that clients reading
//     data.get("Groups", {}) never meet a PHP [] there.
//   - The user object has the recorded keys in the recorded order (§2.8).
//     mpstrength is "0" and totalscore null: the gateway keeps only an
//     argon2id hash and no vault, so it can measure neither (LastPass
//     shows "0" for users it cannot score). sites, notes, formfills,
//     applications and attachments are 0, or null for a user who has never
//     signed in, as LastPass's are. password_reset_required is the flag
//     the next sign-in obeys.
//   - multifactor is absent without a confirmed MFA enrolment; otherwise
//     it names the strongest confirmed factor: webauthn "webauthn" (there
//     is no LastPass id for a FIDO2 key that means the same), push
//     "lastpassauth" (the gateway's authenticator app plays LastPass
//     Authenticator's part), totp "googleauth" (LastPass's id for an RFC
//     6238 app). Recovery codes only back another factor up and are never
//     reported.
//   - duousername is the user's "duousername" attribute, null when unset.
//     attribs holds the other directory attributes (without duousername
//     and securidusername, which updateuser keeps there) and is {} when
//     there are none: typed clients decode it into a map, which a PHP []
//     would break.
//   - groups is always an array, [] for a user in no group (both forms were
//     recorded; an array is what every client iterates safely).
//   - Every call records an "api.getuserdata" event (§7.2: API reads are
//     events, "Get User Data").

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis/portcullis/store"
)

func init() { commands["getuserdata"] = getUserData }

// EventGetUserData records a getuserdata call.
const EventGetUserData = "api.getuserdata"

// userDataBatch is how many users one read of the store brings: the
// answer holds no more than this many user records at once.
const userDataBatch = 2000

// userQuery is a parsed getuserdata request.
type userQuery struct {
	filter      store.UserFilter // Email, Disabled, Admin
	size, index int              // size 0: everyone
	details     map[string]string
}

func getUserData(c *call) (any, error) {
	q, err := parseUserQuery(c.req.Data)
	if err != nil {
		return fail(err.Error()), nil
	}
	ctx := c.r.Context()
	if err := c.h.Store.Record(ctx, c.event(EventGetUserData, q.filter.Email, q.details)); err != nil {
		return nil, fmt.Errorf("record getuserdata: %w", err)
	}
	return streamed(func(ctx context.Context, w io.Writer) error {
		return (&userWriter{st: c.h.Store, h: c.h, out: jsonOut{w: w}}).write(ctx, q)
	}), nil
}

// parseUserQuery reads the data member of getuserdata.
func parseUserQuery(raw json.RawMessage) (userQuery, error) {
	var q userQuery
	trimmed := strings.TrimSpace(string(raw))
	if trimmed == "" || trimmed == "null" || trimmed == "[]" {
		return q, nil
	}
	var d map[string]json.RawMessage
	if err := json.Unmarshal(raw, &d); err != nil {
		return q, errors.New("Invalid data: getuserdata takes an object")
	}
	user, err := scalar(d["username"])
	if err != nil {
		return q, errors.New("Invalid data: username must be a string")
	}
	q.filter.Email = strings.TrimSpace(user)
	for _, f := range []struct {
		name string
		dst  **bool
	}{{"disabled", &q.filter.Disabled}, {"admin", &q.filter.Admin}} {
		if *f.dst, err = flagFilter(d[f.name]); err != nil {
			return q, fmt.Errorf("Invalid data: %s must be 0 or 1", f.name)
		}
	}
	for _, f := range []struct {
		name string
		dst  *int
	}{{"pagesize", &q.size}, {"pageindex", &q.index}} {
		if *f.dst, err = countParam(d[f.name]); err != nil {
			return q, fmt.Errorf("Invalid data: %s must be a number, 0 or more", f.name)
		}
	}
	q.details = filterDetails(q)
	return q, nil
}

// flagFilter reads 0/1, "0"/"1", true/false or "true"/"false"; null and ""
// are no filter.
func flagFilter(raw json.RawMessage) (*bool, error) {
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil && len(raw) > 0 && string(raw) != "null" {
		return &b, nil
	}
	s, err := scalar(raw)
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return nil, nil
	case "0", "false":
		b = false
	case "1", "true":
		b = true
	default:
		return nil, errors.New("not a flag")
	}
	return &b, nil
}

// filterDetails are the filters of q as the audit event shows them.
func filterDetails(q userQuery) map[string]string {
	d := map[string]string{}
	if q.filter.Email != "" {
		d["username"] = q.filter.Email
	}
	for k, b := range map[string]*bool{"disabled": q.filter.Disabled, "admin": q.filter.Admin} {
		if b != nil {
			d[k] = strconv.FormatBool(*b)
		}
	}
	if q.size > 0 {
		d["pagesize"], d["pageindex"] = strconv.Itoa(q.size), strconv.Itoa(q.index)
	}
	return d
}

// countParam reads a non-negative integer given as a number or a numeric
// string; absent, null and "" are 0.
func countParam(raw json.RawMessage) (int, error) {
	s, err := scalar(raw)
	if err != nil {
		return 0, err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, errors.New("not a count")
	}
	return int(min(n, math.MaxInt32)), nil
}

// jsonOut writes compact JSON text, keeping the first error. It reuses
// one encoder, as a large answer encodes a value per user.
type jsonOut struct {
	w   io.Writer
	err error
	buf bytes.Buffer
	enc *json.Encoder
}

func (o *jsonOut) raw(s string) {
	if o.err == nil {
		_, o.err = io.WriteString(o.w, s)
	}
}

// value writes v as marshal would.
func (o *jsonOut) value(v any) {
	if o.err != nil {
		return
	}
	if o.enc == nil {
		o.enc = json.NewEncoder(&o.buf)
		o.enc.SetEscapeHTML(false)
	}
	o.buf.Reset()
	if o.err = o.enc.Encode(v); o.err == nil {
		_, o.err = o.w.Write(bytes.TrimSuffix(o.buf.Bytes(), []byte("\n")))
	}
}

// userWriter streams one getuserdata answer.
type userWriter struct {
	st  store.Store
	h   *Handler
	out jsonOut
	// size is how many users one read brings; 0 is userDataBatch.
	size int
	zone *time.Location
	// groups are the groups of the users written so far, each with the
	// emails of those users in it, in user ID order (keyset order): what
	// Groups is made of, gathered from the rows Users was written from.
	groups map[int64]*groupOut
}

// groupOut is one group of the answer's Groups.
type groupOut struct {
	name   string
	emails []string
}

func (uw *userWriter) write(ctx context.Context, q userQuery) error {
	f := q.filter
	want := -1 // every user
	if q.size > 0 {
		want = q.size
		f.Offset = int(min(int64(q.index)*int64(q.size), math.MaxInt32))
	}
	f.Limit = uw.batchLimit(want)
	users, total, err := uw.st.ListUsers(ctx, f)
	if err != nil {
		return err
	}
	n := max(0, total-f.Offset)
	if want >= 0 {
		n = min(n, want)
	}
	uw.out.raw(`{"total":` + strconv.Itoa(total) + `,"count":` + strconv.Itoa(n) + `,"Users":`)
	if n == 0 {
		uw.out.raw("[]}")
		return uw.out.err
	}
	uw.out.raw("{")
	uw.groups = map[int64]*groupOut{}
	for written := 0; len(users) > 0; {
		users = users[:min(len(users), n-written)]
		if err := uw.batch(ctx, users, written == 0); err != nil {
			return err
		}
		written += len(users)
		if written >= n || len(users) < f.Limit {
			break
		}
		f.Offset, f.AfterID, f.Limit = 0, users[len(users)-1].ID, uw.batchLimit(n-written)
		if users, _, err = uw.st.ListUsers(ctx, f); err != nil {
			return err
		}
	}
	uw.out.raw("}")
	if err := uw.writeGroups(); err != nil {
		return err
	}
	uw.out.raw("}")
	return uw.out.err
}

// batchLimit is how many users to read next when want more are wanted
// (-1: all).
func (uw *userWriter) batchLimit(want int) int {
	size := cmp.Or(uw.size, userDataBatch)
	if want < 0 {
		return size
	}
	return max(1, min(want, size))
}

// batch writes the members of Users for users, reading their groups and
// factors in one query each.
func (uw *userWriter) batch(ctx context.Context, users []store.User, first bool) error {
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	groups, err := uw.st.GroupsOf(ctx, ids)
	if err != nil {
		return err
	}
	factors, err := uw.st.EnrolledFactors(ctx, ids)
	if err != nil {
		return err
	}
	for i, u := range users {
		if i > 0 || !first {
			uw.out.raw(",")
		}
		uw.out.raw(`"` + strconv.FormatInt(u.ID, 10) + `":`)
		uw.out.value(uw.userObject(u, groups[u.ID], factors[u.ID]))
		for _, g := range groups[u.ID] {
			out := uw.groups[g.ID]
			if out == nil {
				out = &groupOut{name: g.Name}
				uw.groups[g.ID] = out
			}
			out.emails = append(out.emails, u.Email)
		}
	}
	return uw.out.err
}

// userJSON is one user of Users, its keys in the recorded order (§2.8).
type userJSON struct {
	Username              string            `json:"username"`
	Fullname              string            `json:"fullname"`
	MPStrength            string            `json:"mpstrength"`
	Created               string            `json:"created"`
	LastPWChange          string            `json:"last_pw_change"`
	LastLogin             string            `json:"last_login"`
	NeverLoggedIn         bool              `json:"neverloggedin"`
	Disabled              bool              `json:"disabled"`
	Admin                 bool              `json:"admin"`
	TotalScore            *string           `json:"totalscore"`
	Multifactor           string            `json:"multifactor,omitempty"`
	DuoUsername           *string           `json:"duousername"`
	Sites                 *int              `json:"sites"`
	Notes                 *int              `json:"notes"`
	FormFills             *int              `json:"formfills"`
	Applications          *int              `json:"applications"`
	Attachments           *int              `json:"attachments"`
	PasswordResetRequired bool              `json:"password_reset_required"`
	Groups                []string          `json:"groups"`
	Attribs               map[string]string `json:"attribs"`
}

// userObject is u as getuserdata shows it.
func (uw *userWriter) userObject(u store.User, groups []store.Group, factors []string) *userJSON {
	never := u.LastLoginAt.IsZero()
	var vault *int // sites, notes, …: LastPass says null before the first login
	if !never {
		vault = new(int)
	}
	o := &userJSON{Username: u.Email, Fullname: u.Name, MPStrength: "0",
		Created: uw.stamp(u.CreatedAt), LastPWChange: uw.stamp(u.PasswordChangedAt),
		LastLogin: uw.stamp(u.LastLoginAt), NeverLoggedIn: never, Disabled: u.Disabled, Admin: u.Admin,
		Multifactor: multifactor(factors), Sites: vault, Notes: vault, FormFills: vault,
		Applications: vault, Attachments: vault, PasswordResetRequired: u.PasswordResetRequired,
		Groups: make([]string, 0, len(groups)), Attribs: attribs(u.Attributes)}
	if v, ok := u.Attributes["duousername"]; ok {
		o.DuoUsername = &v
	}
	for _, g := range groups {
		o.Groups = append(o.Groups, g.Name)
	}
	return o
}

// stamp is Handler.stamp with the zone looked up once per answer.
func (uw *userWriter) stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	if uw.zone == nil {
		uw.zone = uw.h.zone()
	}
	return t.In(uw.zone).Format(timeLayout)
}

// multifactorIDs maps the gateway's factors, strongest first, to the
// method id getuserdata reports.
var multifactorIDs = []struct{ factor, id string }{
	{"webauthn", "webauthn"},
	{"push", "lastpassauth"},
	{"totp", "googleauth"},
}

// multifactor names the strongest of the confirmed factors, "" for none.
func multifactor(factors []string) string {
	for _, m := range multifactorIDs {
		if slices.Contains(factors, m.factor) {
			return m.id
		}
	}
	return ""
}

// attribs is the user's directory attributes without the ones getuserdata
// reports under their own key or keeps for updateuser.
func attribs(a map[string]string) map[string]string {
	out := make(map[string]string, len(a))
	for k, v := range a {
		if k != "duousername" && k != "securidusername" {
			out[k] = v
		}
	}
	return out
}

// writeGroups writes Groups: each group of the answer's users, by name,
// with its members among them, from what the batches gathered (reading
// the memberships again was a third of the time of 100,000 users). It is
// left out when there is none.
func (uw *userWriter) writeGroups() error {
	if len(uw.groups) == 0 {
		return nil
	}
	type group struct {
		id  int64
		out *groupOut
	}
	order := make([]group, 0, len(uw.groups))
	for id, out := range uw.groups {
		order = append(order, group{id, out})
	}
	slices.SortFunc(order, func(a, b group) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.out.name), strings.ToLower(b.out.name)), cmp.Compare(a.id, b.id))
	})
	uw.out.raw(`,"Groups":{`)
	for i, g := range order {
		if i > 0 {
			uw.out.raw(",")
		}
		uw.out.value(g.out.name)
		uw.out.raw(":")
		uw.out.value(g.out.emails)
	}
	uw.out.raw("}")
	return uw.out.err
}

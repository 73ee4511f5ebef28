package enterprise

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/storetest/backends"
)

// seeder writes a directory for a test straight into the store.
type seeder struct {
	t  *testing.T
	st store.Store
}

func (sd seeder) user(u store.User) store.User {
	sd.t.Helper()
	if err := sd.st.CreateUser(sd.t.Context(), &u); err != nil {
		sd.t.Fatal(err)
	}
	return u
}

func (sd seeder) byEmail(email string) store.User {
	sd.t.Helper()
	u, err := sd.st.UserByEmail(sd.t.Context(), email)
	if err != nil {
		sd.t.Fatal(err)
	}
	return u
}

func (sd seeder) group(name string, members ...store.User) store.Group {
	sd.t.Helper()
	g := store.Group{Name: name}
	if err := sd.st.CreateGroup(sd.t.Context(), &g); err != nil {
		sd.t.Fatal(err)
	}
	for _, u := range members {
		if err := sd.st.AddMember(sd.t.Context(), g.ID, u.ID); err != nil {
			sd.t.Fatal(err)
		}
	}
	return g
}

func (sd seeder) factor(u store.User, factor string, confirmed bool) {
	sd.t.Helper()
	e := store.Enrolment{UserID: u.ID, Factor: factor, Confirmed: confirmed}
	if err := sd.st.CreateEnrolment(sd.t.Context(), &e); err != nil {
		sd.t.Fatal(err)
	}
}

func uid(u store.User) string { return strconv.FormatInt(u.ID, 10) }

// jan is a time in UTC; answers show it in America/New_York (EST in
// January: five hours behind).
func jan(day, hour int) time.Time { return time.Date(2024, 1, day, hour, 0, 0, 0, time.UTC) }

// userDataDir is three users: ann, an admin who signs in with a security
// key and TOTP; ben, disabled, never signed in, with an unconfirmed TOTP;
// cat, with the push authenticator and a pending password change.
func userDataDir(t *testing.T, st store.Store) (ann, ben, cat store.User) {
	sd := seeder{t, st}
	ann = sd.user(store.User{Email: "ann@example.com", Name: "Ann Example", Admin: true, CreatedAt: jan(2, 14),
		LastLoginAt: jan(5, 9), PasswordChangedAt: jan(3, 10),
		Attributes: map[string]string{"Department": "Eng", "duousername": "ann.duo", "securidusername": "ann.rsa"}})
	ben = sd.user(store.User{Email: "ben@example.com", Disabled: true, CreatedAt: jan(2, 15)})
	cat = sd.user(store.User{Email: "cat@example.com", Name: "Cat", PasswordResetRequired: true, CreatedAt: jan(2, 16),
		LastLoginAt: jan(6, 23)})
	sd.group("Eng", ann, cat)
	sd.group("ops", ann)
	sd.group("Empty")
	sd.factor(ann, "totp", true)
	sd.factor(ann, "webauthn", true)
	sd.factor(ann, "recovery", true)
	sd.factor(ben, "totp", false)
	sd.factor(cat, "push", true)
	return ann, ben, cat
}

// The user objects of userDataDir, byte for byte.
func annJSON(ann store.User) string {
	return `"` + uid(ann) + `":{"username":"ann@example.com","fullname":"Ann Example","mpstrength":"0",` +
		`"created":"2024-01-02 09:00:00","last_pw_change":"2024-01-03 05:00:00","last_login":"2024-01-05 04:00:00",` +
		`"neverloggedin":false,"disabled":false,"admin":true,"totalscore":null,"multifactor":"webauthn",` +
		`"duousername":"ann.duo","sites":0,"notes":0,"formfills":0,"applications":0,"attachments":0,` +
		`"password_reset_required":false,"groups":["Eng","ops"],"attribs":{"Department":"Eng"}}`
}

func benJSON(ben store.User) string {
	return `"` + uid(ben) + `":{"username":"ben@example.com","fullname":"","mpstrength":"0",` +
		`"created":"2024-01-02 10:00:00","last_pw_change":"","last_login":"",` +
		`"neverloggedin":true,"disabled":true,"admin":false,"totalscore":null,` +
		`"duousername":null,"sites":null,"notes":null,"formfills":null,"applications":null,"attachments":null,` +
		`"password_reset_required":false,"groups":[],"attribs":{}}`
}

func catJSON(cat store.User) string {
	return `"` + uid(cat) + `":{"username":"cat@example.com","fullname":"Cat","mpstrength":"0",` +
		`"created":"2024-01-02 11:00:00","last_pw_change":"","last_login":"2024-01-06 18:00:00",` +
		`"neverloggedin":false,"disabled":false,"admin":false,"totalscore":null,"multifactor":"lastpassauth",` +
		`"duousername":null,"sites":0,"notes":0,"formfills":0,"applications":0,"attachments":0,` +
		`"password_reset_required":true,"groups":["Eng"],"attribs":{}}`
}

func TestGetUserDataEveryone(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		s.cmd(t, "getuserdata", "").want(t, `{"total":0,"count":0,"Users":[]}`)
		ann, ben, cat := userDataDir(t, s.st)
		want := `{"total":3,"count":3,"Users":{` + annJSON(ann) + `,` + benJSON(ben) + `,` + catJSON(cat) + `},` +
			`"Groups":{"Eng":["ann@example.com","cat@example.com"],"ops":["ann@example.com"]}}`
		s.cmd(t, "getuserdata", "").want(t, want)
		for _, data := range []string{`null`, `[]`, `{}`, `{"username":""}`, `{"pageindex":3}`, `{"pagesize":0}`,
			`{"username":"","disabled":null,"admin":"","pagesize":""}`} {
			s.cmd(t, "getuserdata", data).want(t, want)
		}
		// cartography posts a form without data.
		s.post(t, "cid="+testCID+"&provhash="+s.provhash+"&cmd=getuserdata", "application/x-www-form-urlencoded").want(t, want)
	})
}

func TestGetUserDataFilters(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		ann, ben, cat := userDataDir(t, s.st)
		one := func(u, groups string) string {
			return `{"total":1,"count":1,"Users":{` + u + `}` + groups + `}`
		}
		annOnly := one(annJSON(ann), `,"Groups":{"Eng":["ann@example.com"],"ops":["ann@example.com"]}`)
		benOnly := one(benJSON(ben), ``) // in no group: no Groups
		for data, want := range map[string]string{
			`{"username":"ANN@example.com"}`:                annOnly,
			`{"username":"ben@example.com"}`:                benOnly,
			`{"disabled":1}`:                                benOnly,
			`{"disabled":"1"}`:                              benOnly,
			`{"disabled":true}`:                             benOnly,
			`{"admin":1}`:                                   annOnly,
			`{"admin":"true","disabled":false}`:             annOnly,
			`{"admin":"0","disabled":"0"}`:                  one(catJSON(cat), `,"Groups":{"Eng":["cat@example.com"]}`),
			`{"username":"ann@example.com","disabled":1}`:   `{"total":0,"count":0,"Users":[]}`,
			`{"username":"nobody@example.com"}`:             `{"total":0,"count":0,"Users":[]}`,
			`{"username":"ben@example.com","pagesize":"1"}`: benOnly,
			`{"admin":0,"pagesize":1,"pageindex":"1"}`:      `{"total":2,"count":1,"Users":{` + catJSON(cat) + `},"Groups":{"Eng":["cat@example.com"]}}`,
			`{"disabled":0}`:                                `{"total":2,"count":2,"Users":{` + annJSON(ann) + `,` + catJSON(cat) + `},"Groups":{"Eng":["ann@example.com","cat@example.com"],"ops":["ann@example.com"]}}`,
			`{"disabled":"yes"}`:                            `{"status":"FAIL","error":"Invalid data: disabled must be 0 or 1"}`,
			`{"admin":2}`:                                   `{"status":"FAIL","error":"Invalid data: admin must be 0 or 1"}`,
			`{"pagesize":-1}`:                               `{"status":"FAIL","error":"Invalid data: pagesize must be a number, 0 or more"}`,
			`{"pagesize":10,"pageindex":"first"}`:           `{"status":"FAIL","error":"Invalid data: pageindex must be a number, 0 or more"}`,
			`{"username":["ann@example.com"]}`:              `{"status":"FAIL","error":"Invalid data: username must be a string"}`,
			`"all"`:                                         `{"status":"FAIL","error":"Invalid data: getuserdata takes an object"}`,
		} {
			t.Run(data, func(t *testing.T) { s.cmd(t, "getuserdata", data).want(t, want) })
		}
	})
}

func TestGetUserDataPages(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		ann, ben, cat := userDataDir(t, s.st)
		s.cmd(t, "getuserdata", `{"pagesize":2,"pageindex":0}`).want(t, `{"total":3,"count":2,"Users":{`+
			annJSON(ann)+`,`+benJSON(ben)+`},"Groups":{"Eng":["ann@example.com"],"ops":["ann@example.com"]}}`)
		s.cmd(t, "getuserdata", `{"pagesize":"2","pageindex":"1"}`).want(t, `{"total":3,"count":1,"Users":{`+
			catJSON(cat)+`},"Groups":{"Eng":["cat@example.com"]}}`)
		s.cmd(t, "getuserdata", `{"pagesize":2,"pageindex":2}`).want(t, `{"total":3,"count":0,"Users":[]}`)
		s.cmd(t, "getuserdata", `{"pagesize":2,"pageindex":4000000000}`).want(t, `{"total":3,"count":0,"Users":[]}`)
		s.cmd(t, "getuserdata", `{"pagesize":2000,"pageindex":0}`).want(t, `{"total":3,"count":3,"Users":{`+
			annJSON(ann)+`,`+benJSON(ben)+`,`+catJSON(cat)+`},"Groups":{"Eng":["ann@example.com","cat@example.com"],"ops":["ann@example.com"]}}`)
	})
}

// userPage is a getuserdata answer as clients decode it.
type userPage struct {
	Total  int             `json:"total"`
	Count  int             `json:"count"`
	Users  json.RawMessage `json:"Users"`
	Groups map[string][]string
}

func (p userPage) users(t *testing.T) map[string]struct{ Username string } {
	t.Helper()
	var m map[string]struct{ Username string }
	if string(p.Users) == "[]" {
		return m
	}
	if err := json.Unmarshal(p.Users, &m); err != nil {
		t.Fatalf("Users %s: %v", p.Users, err)
	}
	return m
}

// TestGetUserDataClientLoops emulates the paging loops of §2.8: Elastic
// and Splunk stop when count < pagesize, JupiterOne when
// pageindex*pagesize >= total. With a page size that does not divide the
// number of users, each must see every user exactly once, and the pages'
// Groups must add up to the memberships.
func TestGetUserDataClientLoops(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		sd := seeder{t, s.st}
		var everyone, odd []store.User
		for i := range 23 {
			u := sd.user(store.User{Email: fmt.Sprintf("u%02d@example.com", i), Disabled: i%4 == 0})
			everyone = append(everyone, u)
			if i%2 == 1 {
				odd = append(odd, u)
			}
		}
		sd.group("odd", odd...)
		for _, tc := range []struct {
			name, filter string
			want         int
		}{{"everyone", ``, 23}, {"enabled", `"disabled":0,`, 17}} {
			for _, size := range []int{1, 5, 7, 23, 50} {
				stopAtShortPage := func(index int, p userPage) bool { return p.Count < size }
				stopAtTotal := func(index int, p userPage) bool { return (index+1)*size >= p.Total }
				for loop, stop := range map[string]func(int, userPage) bool{"count<pagesize": stopAtShortPage, "index*size>=total": stopAtTotal} {
					t.Run(fmt.Sprintf("%s/%d/%s", tc.name, size, loop), func(t *testing.T) {
						seen := map[string]int{}
						members := map[string]int{}
						for index := 0; ; index++ {
							if index > 100 {
								t.Fatal("the loop does not end")
							}
							var p userPage
							decodeReply(t, s.cmd(t, "getuserdata", fmt.Sprintf(`{%s"pagesize":%d,"pageindex":%d}`, tc.filter, size, index)), &p)
							users := p.users(t)
							if p.Total != tc.want || p.Count != len(users) {
								t.Fatalf("page %d: total %d count %d with %d users", index, p.Total, p.Count, len(users))
							}
							for _, u := range users {
								seen[u.Username]++
							}
							for _, m := range p.Groups["odd"] {
								members[m]++
							}
							if stop(index, p) {
								break
							}
						}
						if len(seen) != tc.want {
							t.Fatalf("saw %d users, want %d", len(seen), tc.want)
						}
						for email, n := range seen {
							if n != 1 {
								t.Errorf("%s seen %d times", email, n)
							}
						}
						wantMembers := 0
						for _, u := range odd {
							if tc.filter == "" || !u.Disabled {
								wantMembers++
								if members[u.Email] != 1 {
									t.Errorf("member %s in %d pages' Groups", u.Email, members[u.Email])
								}
							}
						}
						if len(members) != wantMembers {
							t.Errorf("Groups named %d members, want %d", len(members), wantMembers)
						}
					})
				}
			}
		}
	})
}

func decodeReply(t *testing.T, r reply, v any) {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
}

// TestGetUserDataBatches: the streamed answer is the same whatever the
// size of the reads from the store, across users, groups and pages.
func TestGetUserDataBatches(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		sd := seeder{t, s.st}
		var users []store.User
		for i := range 11 {
			users = append(users, sd.user(store.User{Email: fmt.Sprintf("b%02d@example.com", i), Admin: i%3 == 0}))
			if i%2 == 0 {
				sd.factor(users[i], "totp", true)
			}
		}
		sd.group("a", users[0], users[5], users[10])
		sd.group("b", users[1:4]...)
		for _, data := range []string{`{}`, `{"admin":0}`, `{"pagesize":4,"pageindex":1}`, `{"pagesize":4,"pageindex":2,"admin":"0"}`} {
			want := s.cmd(t, "getuserdata", data).body
			q, err := parseUserQuery(json.RawMessage(data))
			if err != nil {
				t.Fatal(err)
			}
			for _, size := range []int{1, 2, 3, 5} {
				var b bytes.Buffer
				uw := &userWriter{st: s.st, h: s.h, out: jsonOut{w: &b}, size: size}
				if err := uw.write(t.Context(), q); err != nil {
					t.Fatal(err)
				}
				if b.String() != want {
					t.Errorf("%s in reads of %d:\n%s\nwant\n%s", data, size, b.String(), want)
				}
			}
		}
	})
}

func TestGetUserDataEvent(t *testing.T) {
	s := newServer(t, backends.SQLite(t))
	s.post(t, `{"cid":`+testCID+`,"provhash":"`+s.provhash+`","cmd":"getuserdata","apiuser":"splunk.collector",`+
		`"data":{"username":"x@example.com","disabled":"0","pagesize":"500","pageindex":0}}`, "").
		want(t, `{"total":0,"count":0,"Users":[]}`)
	s.cmd(t, "getuserdata", `{"admin":1}`)
	events, err := s.st.ListEvents(t.Context(), store.EventFilter{Types: []string{EventGetUserData}})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("%d events, want 2", len(events))
	}
	e := events[1] // newest first
	want := map[string]string{"cmd": "getuserdata", "username": "x@example.com", "disabled": "false", "pagesize": "500", "pageindex": "0"}
	if e.Actor != "api:splunk.collector" || e.Subject != "x@example.com" || e.Outcome != "success" || !maps.Equal(e.Details, want) {
		t.Fatalf("event %+v", e)
	}
	if d := events[0].Details; d["admin"] != "true" || events[0].Actor != "api" {
		t.Fatalf("event %+v", events[0])
	}
	s.cmd(t, "getuserdata", `{"admin":"maybe"}`)
	if events, _ := s.st.ListEvents(t.Context(), store.EventFilter{Types: []string{EventGetUserData}}); len(events) != 2 {
		t.Fatalf("a refused call recorded an event: %d", len(events))
	}
}

func TestMultifactorMapping(t *testing.T) {
	for factors, want := range map[string]string{
		"":                       "",
		"recovery":               "",
		"totp":                   "googleauth",
		"push,totp":              "lastpassauth",
		"push,recovery,webauthn": "webauthn",
	} {
		if got := multifactor(slices.DeleteFunc(strings.Split(factors, ","), func(s string) bool { return s == "" })); got != want {
			t.Errorf("%q: %q, want %q", factors, got, want)
		}
	}
}

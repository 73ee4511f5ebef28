package enterprise

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/storetest/backends"
)

func user(t *testing.T, s *server, email string) store.User {
	t.Helper()
	u, err := s.st.UserByEmail(t.Context(), email)
	if err != nil {
		t.Fatalf("%s: %v", email, err)
	}
	return u
}

func groupNames(t *testing.T, s *server, email string) []string {
	t.Helper()
	groups, err := s.st.UserGroups(t.Context(), user(t, s, email).ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range groups {
		out = append(out, g.Name)
	}
	return out
}

func TestAuthAndEnvelope(t *testing.T) {
	s := newServer(t, backends.SQLite(t))
	for _, body := range []string{
		`{"cid":8771312,"provhash":"wrong","cmd":"getuserdata"}`,
		`{"cid":1,"provhash":"` + s.provhash + `","cmd":"getuserdata"}`,
		`{"cid":"8771312","cmd":"getuserdata"}`,
		`not json at all`,
		``,
	} {
		r := s.post(t, body, "application/json")
		if r.status != 200 || r.body != authErrorBody || r.header.Get("Content-Type") != "text/xml;charset=UTF-8" {
			t.Errorf("%q: %d %q", body, r.status, r.body)
		}
	}
	add := `"cmd":"batchadd","data":[{"username":"form@example.com"}]`
	// cid as a string, no Content-Type, JSON labelled as a form, and a real form.
	s.post(t, `{"cid":"8771312","provhash":"`+s.provhash+`",`+add+`}`, "").want(t, `{"status":"OK"}`)
	s.post(t, ` {"cid":8771312,"provhash":"`+s.provhash+`",`+add+`,"apiuser":"guardian","extra":1}`,
		"application/x-www-form-urlencoded").want(t, `{"status":"OK"}`)
	s.post(t, "cid=8771312&provhash="+s.provhash+"&cmd=disableuser&data=%5B%22form%40example.com%22%5D",
		"application/x-www-form-urlencoded").want(t, `{"status":"success","disabled_users":["form@example.com"],"unchanged_users":[]}`)
	s.cmd(t, "nosuchcmd", "").want(t, `{"status":"FAIL","error":"Unknown command"}`)
	events, _ := s.st.ListEvents(t.Context(), store.EventFilter{Actor: "api:guardian"})
	if len(events) != 1 || events[0].Type != audit.UserUpdated {
		t.Fatalf("apiuser as the actor: %+v", events)
	}
	s.h.MaxBody = 64
	if r := s.cmd(t, "batchadd", `[{"username":"`+strings.Repeat("a", 100)+`@example.com"}]`); r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("over the body limit: %d %s", r.status, r.body)
	}
}

func TestRateLimit(t *testing.T) {
	s := newServer(t, backends.SQLite(t))
	s.h.Limit = 1 // a burst of 2
	s.cmd(t, "nosuchcmd", "")
	s.cmd(t, "nosuchcmd", "")
	if r := s.cmd(t, "nosuchcmd", ""); r.status != http.StatusTooManyRequests {
		t.Fatalf("third request in a second: %d", r.status)
	}
}

func TestBatchAdd(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		s.cmd(t, "batchadd", `[{"username":"ann@example.com","fullname":"Ann","groups":["Sales","Eng"],
			"attribs":{"Department":"Sales","EmployeeNumber":42},"password":"tmp-pass"},
			{"username":"bob@example.com","password":"perm","password_reset_required":false,"duousername":"bob"}]`).
			want(t, `{"status":"OK"}`)
		ann, bob := user(t, s, "ann@example.com"), user(t, s, "bob@example.com")
		if ann.Name != "Ann" || ann.Attributes["Department"] != "Sales" || ann.Attributes["EmployeeNumber"] != "42" ||
			ann.PasswordHash != "hashed:tmp-pass" || !ann.PasswordResetRequired {
			t.Fatalf("ann: %+v", ann)
		}
		if bob.PasswordResetRequired || bob.Attributes["duousername"] != "bob" {
			t.Fatalf("bob: %+v", bob)
		}
		if got := groupNames(t, s, "ann@example.com"); !slices.Equal(got, []string{"Eng", "Sales"}) {
			t.Fatalf("groups %v", got)
		}
		// An update of an existing user: groups become exactly the new list.
		s.cmd(t, "batchadd", `{"username":"ANN@example.com","groups":["eng","Ops"]}`).want(t, `{"status":"OK"}`)
		if got := groupNames(t, s, "ann@example.com"); !slices.Equal(got, []string{"Eng", "Ops"}) {
			t.Fatalf("groups after update %v", got)
		}
		if u := user(t, s, "ann@example.com"); u.Name != "Ann" || u.PasswordHash != "hashed:tmp-pass" {
			t.Fatalf("an update without fullname or password changed them: %+v", u)
		}
		// All or nothing.
		s.cmd(t, "batchadd", `[{"username":"new@example.com"},{"username":"not-an-email"}]`).
			want(t, `{"status":"FAIL","error":"Invalid username in entry 2: \"not-an-email\""}`)
		if _, err := s.st.UserByEmail(t.Context(), "new@example.com"); err == nil {
			t.Fatal("a failed batch left a user behind")
		}
		s.cmd(t, "batchadd", `"nope"`).want(t, `{"status":"FAIL","error":"Invalid data: expected an array, got string (batchadd takes an array of users)"}`)
		s.cmd(t, "batchadd", `[{"username":"d@example.com"},{"username":"e@example.com"},{"username":"D@example.com"}]`).
			want(t, `{"status":"FAIL","error":"Duplicate username in entries 1 and 3: D@example.com"}`)
		s.cmd(t, "batchadd", `[{"username":"x@example.com","attribs":{"a":{"b":1}}}]`).
			want(t, `{"status":"FAIL","error":"Invalid attribs in entry 1: a must be text"}`)
	})
}

func TestLifecycleCommands(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		s.cmd(t, "batchadd", `[{"username":"a@example.com"},{"username":"b@example.com"},{"username":"c@example.com"}]`).want(t, `{"status":"OK"}`)
		a := user(t, s, "a@example.com")
		s.cmd(t, "updateuser", `{"username":"a@example.com","fullname":"Alice A"}`).want(t, `{"status":"OK"}`)
		s.cmd(t, "updateuser", `{"fullname":"x"}`).want(t, `{"status":"FAIL","error":"username is required"}`)
		s.cmd(t, "deluser", `{"deleteaction":0}`).want(t, `{"status":"FAIL","error":"username is required"}`)
		s.cmd(t, "updateuser", `{"username":42}`).want(t, `{"status":"FAIL","error":"Invalid data: username must be a string, got number"}`)
		s.cmd(t, "updateuser", `{"username":"zz@example.com","fullname":"x"}`).want(t, `{"status":"FAIL","error":"No such user: zz@example.com"}`)
		if user(t, s, "a@example.com").Name != "Alice A" {
			t.Fatal("updateuser did not set the name")
		}
		s.cmd(t, "disableuser", `["a@example.com","b@example.com","zz@example.com"]`).
			want(t, `{"status":"success","disabled_users":["a@example.com","b@example.com"],"unchanged_users":[],"error":"No such user: zz@example.com"}`)
		s.cmd(t, "disableuser", `{"username":"a@example.com"}`).
			want(t, `{"status":"success","disabled_users":[],"unchanged_users":["a@example.com"]}`)
		s.cmd(t, "enableuser", `[{"username":"b@example.com"}]`).
			want(t, `{"status":"success","enabled_users":["b@example.com"],"unchanged_users":[]}`)
		if !slices.Contains(s.rev.Revoked(), a.ID) || !user(t, s, "a@example.com").Disabled || user(t, s, "b@example.com").Disabled {
			t.Fatalf("disable/enable: revoked %v", s.rev.Revoked())
		}
		s.cmd(t, "deluser", `{"username":"a@example.com","deleteaction":0}`).want(t, `{"status":"OK","error":"User already disabled: a@example.com"}`)
		s.cmd(t, "deluser", `{"username":"b@example.com","deleteaction":"0"}`).want(t, `{"status":"OK"}`)
		s.cmd(t, "deluser", `{"username":"b@example.com","deleteaction":7}`).want(t, `{"status":"FAIL","error":"deleteaction must be 0, 1, 2 or 3"}`)
		s.cmd(t, "deluser", `{"username":"b@example.com","deleteaction":2}`).want(t, `{"status":"OK"}`)
		s.cmd(t, "deluser", `{"username":"b@example.com","deleteaction":2}`).want(t, `{"status":"FAIL","error":"No such user: b@example.com"}`)
		s.cmd(t, "deluser", `{"username":"c@example.com","deleteaction":3}`).want(t, `{"status":"OK"}`) // never logged in
		s.cmd(t, "resetpassword", `{"username":"nobody@example.com"}`).want(t, `{"status":"FAIL","error":["user not found: nobody@example.com"]}`)
		s.cmd(t, "updateemail", `{"oldemail":"a@example.com","newemail":"alice@example.com"}`).want(t, `{"status":"OK"}`)
		if user(t, s, "alice@example.com").ID != a.ID {
			t.Fatal("updateemail did not rename the login")
		}
		s.cmd(t, "resetpassword", `{"username":"alice@example.com"}`).want(t, `{"status":"OK"}`)
		s.cmd(t, "requiremasterpasswordchange", `{"username":"alice@example.com"}`).want(t, `{"status":"OK"}`)
		if !user(t, s, "alice@example.com").PasswordResetRequired {
			t.Fatal("resetpassword did not require a new password")
		}
		s.cmd(t, "reinviteuser", `{"username":"alice@example.com"}`).want(t, `{"status":"OK"}`)
		s.cmd(t, "reinviteuser", `{}`).want(t, `{"status":"FAIL","error":"username is required"}`)
		if err := s.st.CreateEnrolment(t.Context(), &store.Enrolment{UserID: a.ID, Factor: "totp", Name: "phone", Data: []byte("x"), Confirmed: true}); err != nil {
			t.Fatal(err)
		}
		s.cmd(t, "disablemultifactor", `{"username":"alice@example.com"}`).want(t, `{"status":"OK"}`)
		if es, _ := s.st.UserEnrolments(t.Context(), a.ID); len(es) != 0 {
			t.Fatalf("enrolments left: %v", es)
		}
		s.cmd(t, "disablemultifactor", `{"username":"nobody@example.com"}`).want(t, `{"status":"FAIL","error":"No such user: nobody@example.com"}`)
	})
}

func TestBatchChangeGroups(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		s.cmd(t, "batchadd", `[{"username":"a@example.com","groups":["Old"]},{"username":"b@example.com"}]`).want(t, `{"status":"OK"}`)
		s.cmd(t, "batchchangegrp", `[{"username":"a@example.com","add":["New","Old"],"del":["Old","Ghost"]},
			{"username":"ghost@example.com","add":["New"]},{"username":"b@example.com","add":["New"]}]`).
			want(t, `{"status":"WARN","errors":["ghost@example.com does not exist"]}`)
		if got := groupNames(t, s, "a@example.com"); !slices.Equal(got, []string{"New"}) {
			t.Fatalf("a's groups %v", got)
		}
		if got := groupNames(t, s, "b@example.com"); !slices.Equal(got, []string{"New"}) {
			t.Fatalf("b's groups %v", got)
		}
		s.cmd(t, "batchchangegrp", `{"username":"b@example.com","del":["New"]}`).want(t, `{"status":"OK"}`)
		s.cmd(t, "batchchangegrp", `[{"add":["New"]}]`).want(t, `{"status":"WARN","errors":["entry 1 has no username"]}`)
		s.cmd(t, "batchchangegrp", `"x"`).want(t, `{"status":"FAIL","error":"Invalid data: batchchangegrp takes an array of {username, add, del}"}`)
	})
}

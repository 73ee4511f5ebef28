package enterprise

import (
	"maps"
	"slices"
	"strconv"
	"testing"

	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/store"
)

func (sd seeder) app(name, entityID string, groups ...string) store.App {
	sd.t.Helper()
	a := store.App{Name: name, Kind: store.AppSAML, EntityID: entityID, Groups: groups}
	if err := sd.st.CreateApp(sd.t.Context(), &a); err != nil {
		sd.t.Fatal(err)
	}
	return a
}

func (sd seeder) folder(name string, apps []store.App, members ...store.FolderMember) store.Folder {
	sd.t.Helper()
	f := store.Folder{Name: name, Members: members}
	for _, a := range apps {
		f.AppIDs = append(f.AppIDs, a.ID)
	}
	if err := sd.st.CreateFolder(sd.t.Context(), &f); err != nil {
		sd.t.Fatal(err)
	}
	return f
}

func fid(f store.Folder) string { return strconv.FormatInt(f.ID, 10) }

// folderDir: "Engineering" holds wiki and aws and is shared with ann
// (give, admin), with the group eng (ben, cat; read-only) and with ben
// directly (not read-only); "Empty" holds nothing and is shared with
// nobody. dan is disabled and in eng too.
func folderDir(t *testing.T, st store.Store) (eng, empty store.Folder) {
	sd := seeder{t, st}
	ann := sd.user(store.User{Email: "ann@example.com"})
	ben := sd.user(store.User{Email: "ben@example.com"})
	cat := sd.user(store.User{Email: "cat@example.com"})
	dan := sd.user(store.User{Email: "dan@example.com", Disabled: true})
	sd.user(store.User{Email: "eve@example.com"})
	g := sd.group("eng", cat, ben, dan)
	wiki := sd.app("Wiki", "https://Wiki.example.com/saml")
	aws := sd.app("AWS", "urn:amazon:webservices")
	eng = sd.folder("Engineering", []store.App{wiki, aws},
		store.FolderMember{Kind: store.MemberUser, ID: ann.ID, Give: true, CanAdminister: true},
		store.FolderMember{Kind: store.MemberGroup, ID: g.ID, ReadOnly: true},
		store.FolderMember{Kind: store.MemberUser, ID: ben.ID})
	empty = sd.folder("Empty", nil)
	return eng, empty
}

func TestGetSFData(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		s.cmd(t, "getsfdata", `"all"`).want(t, `[]`)
		s.cmd(t, "getdetailedsfdata", "").want(t, `[]`)
		eng, empty := folderDir(t, s.st)
		users := func(sites string) string {
			return `[{"username":"ann@example.com","readonly":0,"give":1,"can_administer":1,"superadmin":false` + sites + `},` +
				`{"username":"ben@example.com","readonly":0,"give":0,"can_administer":0,"superadmin":false` + sites + `},` +
				`{"username":"cat@example.com","readonly":1,"give":0,"can_administer":0,"superadmin":false` + sites + `},` +
				`{"username":"dan@example.com","readonly":1,"give":0,"can_administer":0,"superadmin":false` + sites + `}]`
		}
		engJSON := `"` + fid(eng) + `":{"sharedfoldername":"Engineering","score":0,"deleted":false,"users":` + users("") + `}`
		emptyJSON := `"` + fid(empty) + `":{"sharedfoldername":"Empty","score":0,"deleted":false,"users":[]}`
		detailedEng := `"` + fid(eng) + `":{"sharedfoldername":"Engineering","score":0,"deleted":false,"users":` +
			users(`,"sites":["wiki.example.com","AWS"]`) + `}`
		for _, data := range []string{``, `null`, `"all"`, `"ALL"`, `""`, `{"data":"all"}`, `{"data":"all","pagesize":"0"}`} {
			s.cmd(t, "getsfdata", data).want(t, `{`+engJSON+`,`+emptyJSON+`}`)
			s.cmd(t, "getdetailedsfdata", data).want(t, `{`+detailedEng+`,`+emptyJSON+`}`)
		}
		s.cmd(t, "getdetailedsfdata", `{"data":"all","pageindex":"0","pagesize":"1"}`).want(t, `{`+detailedEng+`}`)
		s.cmd(t, "getdetailedsfdata", `{"data":"all","pageindex":1,"pagesize":1}`).want(t, `{`+emptyJSON+`}`)
		s.cmd(t, "getdetailedsfdata", `{"data":"all","pageindex":"2","pagesize":"1"}`).want(t, `[]`)
		s.cmd(t, "getsfdata", `{"pageindex":"0","pagesize":"5"}`).want(t, `{`+engJSON+`,`+emptyJSON+`}`)
		// The form post of data=all.
		s.post(t, "cid="+testCID+"&provhash="+s.provhash+"&cmd=getsfdata&data=all", "application/x-www-form-urlencoded").
			want(t, `{`+engJSON+`,`+emptyJSON+`}`)
		for data, want := range map[string]string{
			`"some"`:                       `{"status":"FAIL","error":"Invalid data: data must be \"all\""}`,
			`{"data":"mine"}`:              `{"status":"FAIL","error":"Invalid data: data must be \"all\""}`,
			`[1]`:                          `{"status":"FAIL","error":"Invalid data: data must be \"all\" or an object"}`,
			`{"data":"all","pagesize":-2}`: `{"status":"FAIL","error":"Invalid data: pagesize must be a number, 0 or more"}`,
			`{"pageindex":"x"}`:            `{"status":"FAIL","error":"Invalid data: pageindex must be a number, 0 or more"}`,
		} {
			s.cmd(t, "getsfdata", data).want(t, want)
		}
		events, err := s.st.ListEvents(t.Context(), store.EventFilter{Types: []string{EventGetSFData}})
		if err != nil || len(events) != 2+2*7+5 {
			t.Fatalf("%d getsfdata events (%v), want %d", len(events), err, 2+2*7+5)
		}
		if d := events[0].Details; d["cmd"] != "getsfdata" || events[0].Actor != "api" {
			t.Fatalf("event %+v", events[0])
		}
	})
}

// sfAnswer is a getsfdata answer as clients decode it.
type sfAnswer map[string]struct {
	Name  string `json:"sharedfoldername"`
	Users []struct {
		Username string `json:"username"`
	} `json:"users"`
}

// TestGetSFDataReportsIdPAccess: the users getsfdata lists for a folder
// are exactly those package idp lets use the folder's apps.
func TestGetSFDataReportsIdPAccess(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		folderDir(t, s.st)
		sd := seeder{t, s.st}
		ops := sd.group("ops", sd.byEmail("eve@example.com"))
		sd.folder("Ops", []store.App{sd.app("Grafana", "https://grafana.example.com")},
			store.FolderMember{Kind: store.MemberGroup, ID: ops.ID, Give: true},
			store.FolderMember{Kind: store.MemberUser, ID: sd.byEmail("ann@example.com").ID})
		var answer sfAnswer
		decodeReply(t, s.cmd(t, "getsfdata", ""), &answer)
		reported := map[string][]string{} // email → app names
		for key, f := range answer {
			id, _ := strconv.ParseInt(key, 10, 64)
			folder, err := s.st.Folder(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range f.Users {
				for _, appID := range folder.AppIDs {
					a, err := s.st.App(t.Context(), appID)
					if err != nil {
						t.Fatal(err)
					}
					reported[u.Username] = append(reported[u.Username], a.Name)
				}
			}
		}
		h := &idp.Handler{Store: s.st}
		everyone, _, err := s.st.ListUsers(t.Context(), store.UserFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range everyone {
			apps, err := h.AppsFor(t.Context(), u)
			if err != nil {
				t.Fatal(err)
			}
			var allowed []string
			for _, a := range apps {
				allowed = append(allowed, a.Name)
			}
			got := reported[u.Email]
			slices.Sort(got)
			slices.Sort(allowed)
			if !slices.Equal(got, allowed) {
				t.Errorf("%s: getsfdata reports %v, idp allows %v", u.Email, got, allowed)
			}
		}
	})
}

func TestPushSitesToUsers(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		folderDir(t, s.st)
		sd := seeder{t, s.st}
		ben := sd.byEmail("ben@example.com")
		jira := sd.app("Jira", "https://jira.example.com/plugins/saml")

		// By name, to one user, into "Pushed sites", created on the way.
		r := s.cmd(t, "pushsitestousers", `{"users":"eve@example.com","name":"jira","url":"https://elsewhere.example.com",`+
			`"persistent":"1","usernametype":"email","password":"never-stored","fav":"on","decryptid":"0"}`)
		pushed, err := s.st.FolderByName(t.Context(), PushFolder)
		if err != nil {
			t.Fatal(err)
		}
		r.want(t, `{"status":"OK","psid":"`+fid(pushed)+`"}`)
		eve := sd.byEmail("eve@example.com")
		if !slices.Equal(pushed.AppIDs, []int64{jira.ID}) ||
			!slices.Equal(pushed.Members, []store.FolderMember{{Kind: store.MemberUser, ID: eve.ID, ReadOnly: true}}) {
			t.Fatalf("pushed folder %+v", pushed)
		}
		// Again: the same folder, nothing doubled; by URL host to a group,
		// into a named folder; a member already there keeps its rights.
		s.cmd(t, "pushsitestousers", `{"users":"eve@example.com","name":"Jira"}`).want(t, `{"status":"OK","psid":"`+fid(pushed)+`"}`)
		s.cmd(t, "pushsitestousers", `{"users":"eng","url":"HTTPS://JIRA.example.com/login","group":"Engineering"}`).
			want(t, `{"status":"OK","psid":"`+fid(folder(t, s, "Engineering"))+`"}`)
		eng := folder(t, s, "Engineering")
		if !slices.Contains(eng.AppIDs, jira.ID) || len(eng.Members) != 3 {
			t.Fatalf("engineering after the push: %+v", eng)
		}
		s.cmd(t, "pushsitestousers", `{"users":"ben@example.com","url":"https://jira.example.com/plugins/saml","group":"Engineering"}`).
			want(t, `{"status":"OK","psid":"`+fid(eng)+`"}`)
		if got := folder(t, s, "Engineering"); !slices.Contains(got.Members, store.FolderMember{Kind: store.MemberUser, ID: ben.ID}) {
			t.Fatalf("ben's share changed: %+v", got.Members)
		}
		// "all": every user, present and future, may use the app.
		s.cmd(t, "pushsitestousers", `{"users":"all","url":"jira.example.com"}`).want(t, `{"status":"OK","psid":"`+fid(pushed)+`"}`)
		if a, _ := s.st.App(t.Context(), jira.ID); !slices.Equal(a.Groups, []string{"*"}) {
			t.Fatalf("jira's groups after a push to all: %v", a.Groups)
		}
		// The pushes show in getsfdata.
		var answer sfAnswer
		decodeReply(t, s.cmd(t, "getsfdata", ""), &answer)
		if f := answer[fid(pushed)]; f.Name != PushFolder || len(f.Users) != 1 || f.Users[0].Username != "eve@example.com" {
			t.Fatalf("getsfdata of the pushed folder: %+v", f)
		}

		before := eventCounts(t, s)
		for data, want := range map[string]string{
			`{"users":"eve@example.com","name":"Nope"}`:                     `{"status":"FAIL","error":"No such app: Nope"}`,
			`{"users":"eve@example.com","url":"https://nope.example"}`:      `{"status":"FAIL","error":"No such app: https://nope.example"}`,
			`{"users":"zed@example.com","name":"Jira"}`:                     `{"status":"FAIL","error":"No such user or group: zed@example.com"}`,
			`{"users":"zed@example.com","name":"Jira","group":"Brand new"}`: `{"status":"FAIL","error":"No such user or group: zed@example.com"}`,
			`{"name":"Jira"}`:                 `{"status":"FAIL","error":"users is required"}`,
			`{"users":"all"}`:                 `{"status":"FAIL","error":"name or url is required"}`,
			``:                                `{"status":"FAIL","error":"users is required"}`,
			`["eve@example.com"]`:             `{"status":"FAIL","error":"Invalid data: pushsitestousers takes an object with string members"}`,
			`{"users":["all"],"name":"Jira"}`: `{"status":"FAIL","error":"Invalid data: pushsitestousers takes an object with string members"}`,
		} {
			s.cmd(t, "pushsitestousers", data).want(t, want)
		}
		if after := eventCounts(t, s); !maps.Equal(before, after) {
			t.Fatalf("failed pushes recorded events: %v, then %v", before, after)
		}
		if _, err := s.st.FolderByName(t.Context(), "Brand new"); err == nil {
			t.Fatal("a failed push created a folder")
		}
		counts := eventCounts(t, s)
		want := map[string]int{EventFolderCreated: 1, EventFolderAppAdded: 2, EventFolderShared: 2, EventSitesPushed: 5}
		for typ, n := range want {
			if counts[typ] != n {
				t.Errorf("%d %s events, want %d (all: %v)", counts[typ], typ, n, counts)
			}
		}
	})
}

func folder(t *testing.T, s *server, name string) store.Folder {
	t.Helper()
	f, err := s.st.FolderByName(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func eventCounts(t *testing.T, s *server) map[string]int {
	t.Helper()
	events, err := s.st.ListEvents(t.Context(), store.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range events {
		out[e.Type]++
	}
	return out
}

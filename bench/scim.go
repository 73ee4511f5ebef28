package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portcullis/portcullis/scim"
	"github.com/portcullis/portcullis/store"
)

// The size of the SCIM directory: what an enterprise's IdP provisions.
const (
	SCIMUsers     = 100_000
	SCIMGroups    = 1_000
	SCIMBigGroup  = 10_000 // members of group 0
	SCIMGroupSize = 50     // members of each other group
)

// Seeding is done in transactions of this many users, groups or members
// of the big group, seedWorkers at a time (SQLite takes them one after the
// other, PostgreSQL at once), but for the big group's members, which come
// one transaction after the other, each one store.AddMembers. (Before
// AddMembers, one AddMember a member moved the group's version on each
// time, and PostgreSQL walks every version of a row it has not yet pruned
// to find the live one: 10,000 of them in one transaction took 100 s.)
const (
	seedUsers   = 5_000
	seedGroups  = 100
	seedMembers = 250
	seedWorkers = 4
)

// SCIM is scim.Handler on a store, behind net/http (httptest) with a real
// bearer token, and one keep-alive client: what an IdP's provisioning
// sees. Seed fills the store with the directory; Do sends a request. Do
// is for one goroutine at a time, as an IdP's sync sends one request after
// the other.
type SCIM struct {
	URL   string
	Token string
	// Seeding is how long Seed took.
	Seeding time.Duration

	users  []int64 // user IDs by index
	groups []int64 // group IDs by index
	srv    *httptest.Server
	client *http.Client
	body   bytes.Buffer
}

// ServeSCIM serves scim.Handler for st, with a new SCIM token stored in
// st. The caller closes st after Close.
func ServeSCIM(ctx context.Context, st store.Store) (*SCIM, error) {
	key := random(32)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	h := &scim.Handler{Store: st, Sessions: noSessions{}, Hasher: noPasswords{},
		Logger: slog.New(slog.DiscardHandler), BaseURL: srv.URL, TokenKey: key}
	h.Mount(mux)
	id, token, hash, err := scim.NewToken(key)
	if err == nil {
		err = st.PutCredential(ctx, &store.Credential{Kind: store.CredentialSCIM, Name: "bench",
			ClientID: id, SecretHash: hash})
	}
	if err != nil {
		srv.Close()
		return nil, err
	}
	return &SCIM{URL: srv.URL, Token: token, srv: srv, client: &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: 1, IdleConnTimeout: time.Minute, DisableCompression: true}}}, nil
}

// Close closes the client's connection and stops the server.
func (s *SCIM) Close() {
	s.client.CloseIdleConnections()
	s.srv.Close()
}

// Do sends one request with the token; path is from /scim/v2 on, body
// JSON or "". It returns the status and the whole body, which is valid
// until the next Do.
func (s *SCIM) Do(method, path, body string) (int, []byte, error) {
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	s.body.Reset()
	_, err = s.body.ReadFrom(resp.Body)
	return resp.StatusCode, s.body.Bytes(), err
}

// UserID is the ID of user i (0 ≤ i < SCIMUsers) after Seed.
func (s *SCIM) UserID(i int) int64 { return s.users[i] }

// GroupID is the ID of group i (0 ≤ i < SCIMGroups) after Seed.
func (s *SCIM) GroupID(i int) int64 { return s.groups[i] }

// Seed fills the store: SCIMUsers users as an IdP's POST /Users writes
// them (SCIMUser), then SCIMGroups groups, group 0 with SCIMBigGroup
// members (every tenth user: 0, 10, 20, …) and group g > 0 with SCIMGroupSize
// (users (g-1)·50 to g·50-1), all through the store's API.
func (s *SCIM) Seed(ctx context.Context, st store.Store) error {
	start := time.Now()
	s.users, s.groups = make([]int64, SCIMUsers), make([]int64, SCIMGroups)
	var users, groups, members []seedTask
	for lo := 0; lo < SCIMUsers; lo += seedUsers {
		users = append(users, s.createUsers(lo, min(lo+seedUsers, SCIMUsers)))
	}
	for lo := 0; lo < SCIMGroups; lo += seedGroups {
		groups = append(groups, s.createGroups(lo, min(lo+seedGroups, SCIMGroups)))
	}
	big := groupMembers(0)
	for lo := 0; lo < len(big); lo += seedMembers {
		members = append(members, s.addMembers(0, big[lo:min(lo+seedMembers, len(big))]))
	}
	for _, phase := range []struct {
		tasks   []seedTask
		workers int
	}{{users, seedWorkers}, {groups, seedWorkers}, {members, 1}} {
		if err := runTx(ctx, st, phase.tasks, phase.workers); err != nil {
			return err
		}
	}
	s.Seeding = time.Since(start)
	return nil
}

// seedTask is what one seeding transaction does.
type seedTask func(ctx context.Context, tx store.Tx) error

func (s *SCIM) createUsers(lo, hi int) seedTask {
	return func(ctx context.Context, tx store.Tx) error {
		for i := lo; i < hi; i++ {
			_, u := SCIMUser(i)
			if err := tx.CreateUser(ctx, &u); err != nil {
				return err
			}
			s.users[i] = u.ID
		}
		return nil
	}
}

// createGroups creates groups lo to hi-1 with their members, but for
// group 0's (addMembers).
func (s *SCIM) createGroups(lo, hi int) seedTask {
	return func(ctx context.Context, tx store.Tx) error {
		for g := lo; g < hi; g++ {
			grp := store.Group{Name: SCIMGroupName(g), ExternalID: fmt.Sprintf("5e2d9c4a-0000-4000-8000-%012d", g)}
			if err := tx.CreateGroup(ctx, &grp); err != nil {
				return err
			}
			s.groups[g] = grp.ID
			if g == 0 {
				continue
			}
			if err := s.addMembers(g, groupMembers(g))(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	}
}

// addMembers adds the users of indexes ids to group g.
func (s *SCIM) addMembers(g int, ids []int) seedTask {
	return func(ctx context.Context, tx store.Tx) error {
		users := make([]int64, len(ids))
		for k, i := range ids {
			users[k] = s.users[i]
		}
		_, err := tx.AddMembers(ctx, s.groups[g], users)
		return err
	}
}

// groupMembers are the indexes of group g's users.
func groupMembers(g int) []int {
	var ids []int
	if g == 0 {
		for i := 0; i < SCIMUsers; i += SCIMUsers / SCIMBigGroup {
			ids = append(ids, i)
		}
		return ids
	}
	for i := (g - 1) * SCIMGroupSize; i < g*SCIMGroupSize; i++ {
		ids = append(ids, i)
	}
	return ids
}

// runTx runs each task in its own transaction, workers at a time, and
// returns the first error.
func runTx(ctx context.Context, st store.Store, tasks []seedTask, workers int) error {
	next := make(chan seedTask, len(tasks))
	for _, t := range tasks {
		next <- t
	}
	close(next)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for t := range next {
				if err := st.InTx(ctx, func(tx store.Tx) error { return t(ctx, tx) }); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// Names and values the users are made of.
var (
	givenNames  = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Frances", "Dennis", "Radia", "John", "Katherine", "Leslie", "Sophie", "Tim", "Hedy", "Claude", "Annie", "Niklaus"}
	familyNames = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson", "Allen", "Ritchie", "Perlman", "Backus", "Johnson", "Lamport", "Wilson", "Berners-Lee", "Lamarr", "Shannon", "Easley", "Wirth"}
	departments = []string{"Engineering", "Sales", "Marketing", "Finance", "Support", "Legal", "People", "Operations"}
	titles      = []string{"Engineer", "Senior Engineer", "Account Executive", "Analyst", "Manager", "Director", "Specialist", "Associate"}
)

// SCIMUserName is user i's userName (their login email).
func SCIMUserName(i int) string {
	given, family := names(i)
	return strings.ToLower(given+"."+family) + "." + strconv.Itoa(i) + "@example.com"
}

// SCIMGroupName is group i's displayName.
func SCIMGroupName(i int) string {
	if i == 0 {
		return "All Staff"
	}
	return fmt.Sprintf("%s Team %03d", departments[i%len(departments)], i)
}

func names(i int) (given, family string) {
	return givenNames[i%len(givenNames)], familyNames[(i/len(givenNames))%len(familyNames)]
}

// SCIMUser returns user i as an IdP (Okta) sends it in a POST /Users, and
// the store.User that scim.Handler makes of that document: the core
// attributes in their columns, the rest in Profile, the usual ones copied
// to Attributes (scim/user.go, applyUser). TestSCIMFixtureUser checks it
// against the handler.
func SCIMUser(i int) (doc map[string]any, u store.User) {
	given, family := names(i)
	email := SCIMUserName(i)
	dept, title := departments[i%len(departments)], titles[i/3%len(titles)]
	employee, cost := strconv.Itoa(100_000+i), fmt.Sprintf("CC-%s-%02d", dept[:3], i%40)
	ext := scim.EnterpriseSchema
	profile := map[string]any{
		"name":         map[string]any{"givenName": given, "familyName": family, "formatted": given + " " + family},
		"displayName":  given + " " + family,
		"emails":       []any{map[string]any{"value": email, "type": "work", "primary": true}},
		"phoneNumbers": []any{map[string]any{"value": fmt.Sprintf("+1-555-%07d", i), "type": "work"}},
		"title":        title,
		"locale":       "en-US",
		ext: map[string]any{"employeeNumber": employee, "department": dept, "costCenter": cost,
			"organization": "Example Corp"},
	}
	raw, err := json.Marshal(profile)
	if err != nil {
		panic(err) // strings, bools and maps of them
	}
	u = store.User{Email: email, Name: given + " " + family, ExternalID: fmt.Sprintf("00u%013dq5d7", i),
		Profile: raw, Attributes: map[string]string{"given_name": given, "family_name": family,
			"title": title, "locale": "en-US", "employee_number": employee, "cost_center": cost,
			"organization": "Example Corp", "department": dept}}
	doc = profile
	doc["schemas"] = []any{scim.UserSchema, ext}
	doc["userName"] = email
	doc["externalId"] = u.ExternalID
	doc["active"] = true
	return doc, u
}

// noSessions is the session revoker: the benchmarks disable no one.
type noSessions struct{}

func (noSessions) RevokeUser(context.Context, int64) (int, error) { return 0, nil }

// noPasswords is the password hasher: the directory's users sign in
// through their IdP and have no password.
type noPasswords struct{}

func (noPasswords) Hash(string) (string, error) {
	return "", fmt.Errorf("bench: no passwords in the SCIM directory")
}

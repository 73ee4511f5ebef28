package enterprise

// Golden request/response pairs: testdata/golden/*.txt, one scenario a
// file, each run on a fresh server on every backend (eachBackend). The
// bodies are compared byte for byte, because clients compare raw bytes
// (lastpass-apis.md §1.3: `response.text == '{"status":"OK"}'`); only the
// placeholders below stand for what a run cannot know in advance.
//
// A file is a header, then exchanges:
//
//	# Comment lines start with # anywhere (no body line does).
//	fixture: directory          (optional: goldenDirectory seeds the store)
//	rate: 1                     (optional: Handler.Limit)
//	max_body: 64                (optional: Handler.MaxBody)
//	max_report_events: 3        (optional: reporting's page size)
//	time_zone: UTC              (optional: Handler.Zone; default America/New_York)
//
//	>>> cmd getuserdata         a JSON envelope with {{cid}} and {{provhash}};
//	{"disabled":1}              the lines below are its data (none: no data)
//	<<< 200 text/xml;charset=UTF-8
//	{"total":…}
//
//	>>> POST /enterpriseapi.php application/x-www-form-urlencoded
//	cid={{cid}}&provhash={{provhash}}&cmd=getuserdata
//	<<< 200
//	…
//
// A raw request names its method, path and Content-Type ("-" for none),
// and may end in xN to be sent N times, each getting the same answer. The
// answer line names the status and, optionally, the exact Content-Type.
// Body lines are joined with newlines; a line ending in a backslash joins
// the next without one, so that long JSON can be folded. Trailing empty
// lines are dropped.
//
// Placeholders: {{cid}} and {{provhash}} are the server's. In answers,
// {{id}} is any decimal number (user, folder and event IDs), {{time}} any
// "YYYY-MM-DD HH:MM:SS" (a time the store sets to now), {{cursor}} any
// reporting next; {{id:NAME}}, {{time:NAME}} and {{cursor:NAME}} bind
// NAME the first time and must be the same value after, in answers and in
// later requests.
//
// Every run has a fixed clock (goldenNow) for the handler; the store
// stamps creation and event times itself.

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/store"
)

// goldenNow is the handler's clock in golden runs: 09:30:00 in New York.
var goldenNow = time.Date(2025, 1, 15, 14, 30, 0, 0, time.UTC)

type goldenScenario struct {
	file      string
	fixture   string
	rate      float64
	maxBody   int64
	maxReport int
	zone      string
	exchanges []goldenExchange
}

type goldenExchange struct {
	line        int
	cmd         string // set for the >>> cmd form
	method      string
	path        string
	contentType string
	repeat      int
	body        string
	status      int
	respType    string // "" when not checked
	want        string
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files (%v)", err)
	}
	for _, file := range files {
		sc, err := readGolden(file)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			eachBackend(t, func(t *testing.T, s *server) { sc.run(t, s) })
		})
	}
}

var (
	goldenRequest  = regexp.MustCompile(`^>>> (?:cmd (\S+)|(\S+) (\S+) (\S+))(?: x(\d+))?$`)
	goldenResponse = regexp.MustCompile(`^<<< (\d{3})(?: (\S+))?$`)
	goldenHeader   = regexp.MustCompile(`^([a-z_]+): *(.*)$`)
)

func readGolden(file string) (*goldenScenario, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := &goldenScenario{file: file}
	var cur *goldenExchange
	var block []string
	inResponse := false
	flush := func() {
		if cur == nil {
			return
		}
		text := joinGolden(block)
		if inResponse {
			cur.want = text
			sc.exchanges = append(sc.exchanges, *cur)
			cur = nil
		} else {
			cur.body = text
		}
		block = nil
	}
	scan := bufio.NewScanner(f)
	scan.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; scan.Scan(); n++ {
		line := scan.Text()
		switch {
		case strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, ">>> "):
			if cur != nil && !inResponse {
				return nil, fmt.Errorf("%s:%d: a request without an answer before it", file, n)
			}
			flush()
			m := goldenRequest.FindStringSubmatch(line)
			if m == nil {
				return nil, fmt.Errorf("%s:%d: bad request line %q", file, n, line)
			}
			cur = &goldenExchange{line: n, cmd: m[1], method: m[2], path: m[3], contentType: m[4], repeat: 1}
			if m[1] != "" {
				cur.method, cur.path, cur.contentType = http.MethodPost, Path, "application/json"
			}
			if cur.contentType == "-" {
				cur.contentType = ""
			}
			if m[5] != "" {
				cur.repeat, _ = strconv.Atoi(m[5])
			}
			inResponse = false
		case strings.HasPrefix(line, "<<< "):
			if cur == nil || inResponse {
				return nil, fmt.Errorf("%s:%d: an answer without a request", file, n)
			}
			flush()
			m := goldenResponse.FindStringSubmatch(line)
			if m == nil {
				return nil, fmt.Errorf("%s:%d: bad answer line %q", file, n, line)
			}
			cur.status, _ = strconv.Atoi(m[1])
			cur.respType = m[2]
			inResponse = true
		case cur == nil:
			if strings.TrimSpace(line) == "" {
				continue
			}
			if err := sc.header(line); err != nil {
				return nil, fmt.Errorf("%s:%d: %v", file, n, err)
			}
		default:
			block = append(block, line)
		}
	}
	if err := scan.Err(); err != nil {
		return nil, err
	}
	if cur != nil && !inResponse {
		return nil, fmt.Errorf("%s: the last request has no answer", file)
	}
	flush()
	if len(sc.exchanges) == 0 {
		return nil, fmt.Errorf("%s: no exchanges", file)
	}
	return sc, nil
}

// joinGolden joins body lines: a newline between lines, none after a line
// ending in a backslash (which is dropped); trailing empty lines go.
func joinGolden(lines []string) string {
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	var b strings.Builder
	for i, l := range lines {
		if cut, ok := strings.CutSuffix(l, `\`); ok {
			b.WriteString(cut)
			continue
		}
		b.WriteString(l)
		if i < len(lines)-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func (sc *goldenScenario) header(line string) error {
	m := goldenHeader.FindStringSubmatch(line)
	if m == nil {
		return fmt.Errorf("bad header line %q", line)
	}
	var err error
	switch m[1] {
	case "fixture":
		if goldenFixtures[m[2]] == nil {
			return fmt.Errorf("no fixture %q", m[2])
		}
		sc.fixture = m[2]
	case "rate":
		sc.rate, err = strconv.ParseFloat(m[2], 64)
	case "max_body":
		sc.maxBody, err = strconv.ParseInt(m[2], 10, 64)
	case "max_report_events":
		sc.maxReport, err = strconv.Atoi(m[2])
	case "time_zone":
		_, err = time.LoadLocation(m[2])
		sc.zone = m[2]
	default:
		return fmt.Errorf("unknown header %q", m[1])
	}
	return err
}

func (sc *goldenScenario) run(t *testing.T, s *server) {
	s.h.Now = func() time.Time { return goldenNow }
	if sc.rate > 0 {
		s.h.Limit = sc.rate
	}
	s.h.MaxBody = sc.maxBody
	if sc.zone != "" {
		s.h.Zone, _ = time.LoadLocation(sc.zone)
	}
	if sc.maxReport > 0 {
		old := maxReportEvents
		maxReportEvents = sc.maxReport
		t.Cleanup(func() { maxReportEvents = old })
	}
	if sc.fixture != "" {
		goldenFixtures[sc.fixture](t, s.st)
	}
	vars := map[string]string{"cid": testCID, "provhash": s.provhash}
	for _, ex := range sc.exchanges {
		for i := range ex.repeat {
			r := ex.send(t, s, vars)
			where := fmt.Sprintf("%s:%d", sc.file, ex.line)
			if ex.repeat > 1 {
				where += fmt.Sprintf(" (request %d of %d)", i+1, ex.repeat)
			}
			if err := ex.check(r, vars); err != nil {
				t.Fatalf("%s: %v\nrequest:\n%s\ngot %d %s\n%s\nwant %d\n%s", where, err, ex.request(vars),
					r.status, r.header.Get("Content-Type"), r.body, ex.status, ex.want)
			}
		}
	}
}

// goldenVar is a placeholder in a golden file.
var goldenVar = regexp.MustCompile(`\{\{(cid|provhash|id|time|cursor)(?::([a-z0-9_]+))?\}\}`)

// fill replaces placeholders in a request with their values.
func fill(text string, vars map[string]string) string {
	return goldenVar.ReplaceAllStringFunc(text, func(p string) string {
		m := goldenVar.FindStringSubmatch(p)
		key := m[1]
		if m[2] != "" {
			key = m[1] + ":" + m[2]
		}
		if v, ok := vars[key]; ok {
			return v
		}
		return p // unbound: sent as written, which fails the exchange visibly
	})
}

func (ex goldenExchange) request(vars map[string]string) string {
	if ex.cmd == "" {
		return fill(ex.body, vars)
	}
	body := `{"cid":{{cid}},"provhash":"{{provhash}}","cmd":"` + ex.cmd + `"`
	if ex.body != "" {
		body += `,"data":` + ex.body
	}
	return fill(body+"}", vars)
}

func (ex goldenExchange) send(t *testing.T, s *server, vars map[string]string) reply {
	t.Helper()
	return s.send(t, ex.method, ex.path, ex.request(vars), ex.contentType)
}

// goldenPatterns is what each kind of placeholder matches in an answer.
var goldenPatterns = map[string]string{
	"id":     `[0-9]+`,
	"time":   `[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}`,
	"cursor": `[0-9]+`,
}

// check compares the answer with the golden one, binding the named
// placeholders it meets for the first time.
func (ex goldenExchange) check(r reply, vars map[string]string) error {
	if r.status != ex.status {
		return fmt.Errorf("status %d, want %d", r.status, ex.status)
	}
	if ex.respType != "" && r.header.Get("Content-Type") != ex.respType {
		return fmt.Errorf("Content-Type %q, want %q", r.header.Get("Content-Type"), ex.respType)
	}
	var pattern strings.Builder
	var names []string // of each capture group, "" when unnamed
	pattern.WriteString(`\A`)
	last := 0
	for _, loc := range goldenVar.FindAllStringSubmatchIndex(ex.want, -1) {
		pattern.WriteString(regexp.QuoteMeta(ex.want[last:loc[0]]))
		last = loc[1]
		kind, name := ex.want[loc[2]:loc[3]], ""
		if loc[4] >= 0 {
			name = kind + ":" + ex.want[loc[4]:loc[5]]
		}
		switch v, bound := vars[name]; {
		case kind == "cid" || kind == "provhash":
			pattern.WriteString(regexp.QuoteMeta(vars[kind]))
		case bound:
			pattern.WriteString(regexp.QuoteMeta(v))
		default:
			pattern.WriteString("(" + goldenPatterns[kind] + ")")
			names = append(names, name)
		}
	}
	pattern.WriteString(regexp.QuoteMeta(ex.want[last:]) + `\z`)
	m := regexp.MustCompile(pattern.String()).FindStringSubmatch(r.body)
	if m == nil {
		return fmt.Errorf("body differs%s", firstDifference(r.body, ex.want))
	}
	seen := map[string]string{}
	for i, name := range names {
		if name == "" {
			continue
		}
		if v, dup := seen[name]; dup && v != m[i+1] {
			return fmt.Errorf("{{%s}} is %s and %s", name, v, m[i+1])
		}
		seen[name] = m[i+1]
	}
	for k, v := range seen {
		vars[k] = v
	}
	return nil
}

// firstDifference points at where got leaves want, ignoring placeholders
// (good enough to find the spot in a long line).
func firstDifference(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	if i == len(got) && i == len(want) {
		return ""
	}
	from := max(0, i-40)
	return fmt.Sprintf(" at byte %d: got …%s…, want …%s…", i, got[from:min(len(got), i+40)], want[from:min(len(want), i+40)])
}

// goldenFixtures seed a fresh store before a scenario's first request.
var goldenFixtures = map[string]func(t *testing.T, st store.Store){
	"directory":   goldenDirectory,
	"clocks_back": goldenClocksBack,
}

// goldenDirectory is a small company, its times fixed (answers show them in
// New York: five hours behind UTC in January):
//
//	ann  admin, signed in; security key, TOTP and recovery codes; Eng, ops
//	ben  disabled, never signed in; an unconfirmed TOTP
//	cat  must change her password; the push authenticator; Eng
//	dan  disabled, must change his password; Eng
//	eve  never signed in, must change her password
//
// Apps Wiki, AWS and Jira; folder Engineering (Wiki, AWS) shared with ann
// (give, admin), the group Eng (read-only) and ben; folder Empty. And an
// audit trail on 2025-01-15 (goldenEvents).
func goldenDirectory(t *testing.T, st store.Store) {
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	at := func(day, hour, min, sec int) time.Time { return time.Date(2024, 1, day, hour, min, sec, 0, time.UTC) }
	users := []store.User{
		{Email: "ann@example.com", Name: "Ann Example", Admin: true, PasswordHash: "x", CreatedAt: at(2, 14, 0, 0),
			LastLoginAt: at(5, 9, 0, 0), PasswordChangedAt: at(3, 10, 0, 0),
			Attributes: map[string]string{"Department": "Eng", "duousername": "ann.duo", "securidusername": "ann.rsa"}},
		{Email: "ben@example.com", Disabled: true, CreatedAt: at(2, 15, 0, 0)},
		{Email: "cat@example.com", Name: "Cat Example", PasswordHash: "x", PasswordResetRequired: true,
			CreatedAt: at(2, 16, 0, 0), LastLoginAt: at(6, 23, 0, 0), PasswordChangedAt: at(4, 12, 0, 0)},
		{Email: "dan@example.com", Disabled: true, PasswordHash: "x", PasswordResetRequired: true, CreatedAt: at(2, 17, 0, 0),
			LastLoginAt: at(4, 8, 0, 0), PasswordChangedAt: at(4, 8, 0, 0), Attributes: map[string]string{"EmployeeNumber": "1004"}},
		{Email: "eve@example.com", Name: "Eve Example", PasswordHash: "x", PasswordResetRequired: true,
			CreatedAt: at(2, 18, 0, 0), PasswordChangedAt: at(7, 15, 30, 45)},
	}
	for i := range users {
		must(st.CreateUser(ctx, &users[i]))
	}
	ann, ben, cat, dan := users[0], users[1], users[2], users[3]
	group := func(name string, members ...store.User) store.Group {
		g := store.Group{Name: name}
		must(st.CreateGroup(ctx, &g))
		for _, u := range members {
			must(st.AddMember(ctx, g.ID, u.ID))
		}
		return g
	}
	eng := group("Eng", ann, cat, dan)
	group("ops", ann)
	group("Empty")
	for _, e := range []store.Enrolment{
		{UserID: ann.ID, Factor: "totp", Name: "phone", Confirmed: true},
		{UserID: ann.ID, Factor: "webauthn", Name: "key", Confirmed: true},
		{UserID: ann.ID, Factor: "recovery", Name: "codes", Confirmed: true},
		{UserID: ben.ID, Factor: "totp", Name: "phone"},
		{UserID: cat.ID, Factor: "push", Name: "phone", Confirmed: true},
	} {
		must(st.CreateEnrolment(ctx, &e))
	}
	var apps []store.App
	for _, a := range []store.App{
		{Name: "Wiki", Kind: store.AppSAML, EntityID: "https://Wiki.example.com/saml"},
		{Name: "AWS", Kind: store.AppSAML, EntityID: "urn:amazon:webservices"},
		{Name: "Jira", Kind: store.AppSAML, EntityID: "https://jira.example.com/plugins/saml"},
	} {
		must(st.CreateApp(ctx, &a))
		apps = append(apps, a)
	}
	must(st.CreateFolder(ctx, &store.Folder{Name: "Engineering", AppIDs: []int64{apps[0].ID, apps[1].ID},
		Members: []store.FolderMember{
			{Kind: store.MemberUser, ID: ann.ID, Give: true, CanAdminister: true},
			{Kind: store.MemberGroup, ID: eng.ID, ReadOnly: true},
			{Kind: store.MemberUser, ID: ben.ID},
		}}))
	must(st.CreateFolder(ctx, &store.Folder{Name: "Empty"}))
	for _, e := range goldenEvents() {
		must(st.Record(ctx, &e))
	}
}

// goldenEvents is the audit trail of goldenDirectory, oldest first. In New
// York the window 08:00:00–08:59:59 of 2025-01-15 holds the seven from the
// sign-in at 08:00:00 to the logout at 08:59:59.5.
func goldenEvents() []audit.Event {
	at := func(day, hour, min, sec, micro int) time.Time {
		return time.Date(2025, 1, day, hour, min, sec, micro*1000, time.UTC)
	}
	return []audit.Event{
		{Time: at(14, 20, 0, 0, 0), Type: audit.LoginSucceeded, Actor: "ann@example.com", Subject: "ann@example.com",
			IP: "192.0.2.1", App: "Wiki", Outcome: audit.Success},
		{Time: at(15, 13, 0, 0, 0), Type: audit.LoginSucceeded, Actor: "ann@example.com", Subject: "ann@example.com",
			IP: "192.0.2.1", App: "Wiki", Outcome: audit.Success},
		{Time: at(15, 13, 5, 0, 0), Type: audit.LoginFailed, Subject: "mallory@example.com", IP: "198.51.100.7",
			Outcome: audit.Failure, Reason: "bad password"},
		{Time: at(15, 13, 10, 0, 0), Type: "saml.sso", Actor: "ann@example.com", Subject: "ann@example.com",
			IP: "192.0.2.1", App: "AWS", Outcome: audit.Success},
		{Time: at(15, 13, 15, 0, 0), Type: "mfa.failed", Actor: "cat@example.com", Subject: "cat@example.com",
			IP: "203.0.113.9", Outcome: audit.Failure, Details: map[string]string{"factor": "totp"}},
		{Time: at(15, 13, 20, 0, 0), Type: audit.UserDisabled, Actor: "api:hr", Subject: "ben@example.com", Outcome: audit.Success},
		{Time: at(15, 13, 25, 0, 0), Type: audit.GroupMemberAdd, Actor: "api", Subject: "cat@example.com",
			Outcome: audit.Success, Details: map[string]string{"group": "Eng"}},
		{Time: at(15, 13, 59, 59, 500_000), Type: audit.Logout, Actor: "cat@example.com", Subject: "cat@example.com",
			IP: "203.0.113.9", Outcome: audit.Success},
		{Time: at(15, 14, 0, 0, 0), Type: audit.UserCreated, Actor: "cli", Subject: "dan@example.com", Outcome: audit.Success},
		{Time: at(15, 14, 10, 0, 0), Type: "custom.thing", Actor: "ann@example.com", Subject: "ann@example.com", Outcome: audit.Success},
	}
}

// goldenClocksBack is four sign-ins around the end of daylight saving time
// in New York, 2025-11-02, when 01:00–01:59 happens twice: at 01:00 and
// 01:30 EDT (05:00 and 05:30 UTC), then 01:30 EST (06:30 UTC) and 02:00
// EST (07:00 UTC).
func goldenClocksBack(t *testing.T, st store.Store) {
	for i, at := range []time.Time{
		time.Date(2025, 11, 2, 5, 0, 0, 0, time.UTC),
		time.Date(2025, 11, 2, 5, 30, 0, 0, time.UTC),
		time.Date(2025, 11, 2, 6, 30, 0, 0, time.UTC),
		time.Date(2025, 11, 2, 7, 0, 0, 0, time.UTC),
	} {
		e := audit.Event{Time: at, Type: audit.LoginSucceeded, Actor: "ann@example.com", Subject: "ann@example.com",
			IP: "192.0.2." + strconv.Itoa(i+1), App: "Wiki", Outcome: audit.Success}
		if err := st.Record(t.Context(), &e); err != nil {
			t.Fatal(err)
		}
	}
}

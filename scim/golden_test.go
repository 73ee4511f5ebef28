package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestGolden replays the request/response sequences in
// testdata/golden/*/*.txt: what Okta's SCIM 2.0 spec test and its group
// push send (okta/), what Microsoft Entra ID's provisioning service and
// SCIM validator send (entra/), and one error of RFC 7644 §3.12 after
// another (errors/). Each file runs on a fresh server, once per backend,
// and its steps run in order.
//
// A file is a list of steps:
//
//	# Comment lines, before a step: what it models.
//	>>> PATCH /scim/v2/Users/{{alice}}
//	If-Match: W/"1"
//
//	{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], ...}
//	<<< 200
//	ETag: W/"2"
//	{"id": "{{alice}}", "meta": {"lastModified": "{{time}}", ...}, ...}
//
// ">>> METHOD PATH" starts a request. PATH is sent as written, except that
// the characters a URL cannot hold (space, double quote, brackets,
// braces, ...) are percent-encoded, so filters read as IdPs log them;
// write a plus sign as %2B. Header lines ("Name: value") follow; the
// request carries the server's bearer token and, with a body, Content-Type
// application/scim+json, unless a header line says otherwise, and a header
// line with no value sends no such header. The body is everything after
// the headers (and an optional blank line) up to "<<<", sent verbatim.
//
// "<<< STATUS" starts the expected response: header lines, each of which
// the response must carry with that value (a header line with no value:
// must not carry it), then the expected body up to the next comment,
// step or directive. An empty expected body means the response has none.
// Otherwise both are compared as JSON documents, exactly: an attribute
// missing or extra, or arrays of another length or order, fail the step;
// only a "schemas" list is compared as a set (RFC 7643 §3: its order is
// not specified).
//
// Expected strings, header values included, may hold placeholders:
//
//	{{id:NAME}}  binds NAME to what stands there the first time, and must
//	             match that value afterwards;
//	{{NAME}}     the value NAME is bound to;
//	{{any}}      anything; a string that is only "{{any}}" matches any
//	             JSON value (a number, an object, ...);
//	{{time}}     an RFC 3339 date-time;
//	{{base}}     the server's base URL (meta.location, $ref, Location).
//
// Request paths, headers and bodies may use {{NAME}}, {{base}}, and
// {{token}}, the server's bearer token.
//
// Two directives check or set what a response cannot show:
//
//	=== revoked {{alice}} {{bob}}   the users whose sessions were revoked
//	                                so far, in order ("=== revoked": none);
//	=== maxscan N                   sets Handler.MaxScan from here on.
//
// A failure names the file and the line of the step's ">>>", with the
// differences, and the expected and actual documents in full.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden files under testdata/golden")
	}
	for _, file := range files {
		name, _ := filepath.Rel(filepath.Join("testdata", "golden"), file)
		name = filepath.ToSlash(name)
		steps, err := parseGolden(file)
		if err != nil {
			t.Error(err)
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			eachBackend(t, func(t *testing.T, s *server) {
				r := &goldenRun{t: t, s: s, file: name, vars: map[string]string{}}
				for _, st := range steps {
					if !r.step(st) {
						return // later steps need what this one failed to give
					}
				}
			})
		})
	}
}

// goldenStep is a request and its expected response, or a directive.
type goldenStep struct {
	line      int    // of ">>>" or "==="
	note      string // the comment before it
	directive []string

	method, path string
	reqHeader    [][2]string
	reqBody      string

	status     int
	wantHeader [][2]string
	wantBody   string
}

// Where a goldenParser is in a file.
const (
	goldenBetween = iota
	goldenReqHead
	goldenReqBody
	goldenRespHead
	goldenRespBody
)

// goldenParser reads a golden file line by line.
type goldenParser struct {
	file  string
	n     int // the line being read
	state int
	steps []goldenStep
	cur   *goldenStep
	note  []string // comment lines waiting for their step
	body  []string
}

var goldenHeaderLine = regexp.MustCompile(`^([A-Za-z0-9-]+):(?:\s+(.*))?$`)

// parseGolden reads a golden file into its steps.
func parseGolden(file string) ([]goldenStep, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	p := &goldenParser{file: file}
	for i, line := range strings.Split(string(data), "\n") {
		p.n = i + 1
		if err := p.line(strings.TrimRight(line, " \t\r")); err != nil {
			return nil, err
		}
	}
	if p.state == goldenReqHead || p.state == goldenReqBody {
		return nil, p.errorf("the request of line %d has no <<< response", p.cur.line)
	}
	p.finish()
	return p.steps, nil
}

func (p *goldenParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", p.file, p.n, fmt.Sprintf(format, args...))
}

func (p *goldenParser) line(line string) error {
	switch p.state {
	case goldenBetween:
		return p.between(line)
	case goldenReqHead, goldenReqBody:
		return p.request(line)
	}
	return p.response(line)
}

// between reads comments, directives and the start of a request.
func (p *goldenParser) between(line string) error {
	switch {
	case line == "":
	case strings.HasPrefix(line, "#"):
		p.note = append(p.note, strings.TrimSpace(line[1:]))
	case strings.HasPrefix(line, "==="):
		p.steps = append(p.steps, goldenStep{line: p.n, note: p.takeNote(), directive: strings.Fields(line[3:])})
	case strings.HasPrefix(line, ">>>"):
		method, path, _ := strings.Cut(strings.TrimSpace(line[3:]), " ")
		if strings.TrimSpace(path) == "" {
			return p.errorf(`want ">>> METHOD PATH"`)
		}
		p.cur = &goldenStep{line: p.n, note: p.takeNote(), method: method, path: strings.TrimSpace(path)}
		p.state = goldenReqHead
	default:
		return p.errorf("want a comment, >>> or ===, got %q", line)
	}
	return nil
}

func (p *goldenParser) takeNote() string {
	note := strings.Join(p.note, " ")
	p.note = nil
	return note
}

// request reads a request's headers and body, up to "<<< STATUS".
func (p *goldenParser) request(line string) error {
	if rest, ok := strings.CutPrefix(line, "<<<"); ok {
		status, err := strconv.Atoi(strings.TrimSpace(rest))
		if err != nil {
			return p.errorf(`want "<<< STATUS"`)
		}
		p.cur.reqBody, p.cur.status = p.takeBody(), status
		p.state = goldenRespHead
		return nil
	}
	if strings.HasPrefix(line, ">>>") || strings.HasPrefix(line, "===") {
		return p.errorf("the request of line %d has no <<< response", p.cur.line)
	}
	if m := goldenHeaderLine.FindStringSubmatch(line); p.state == goldenReqHead && m != nil {
		p.cur.reqHeader = append(p.cur.reqHeader, [2]string{m[1], m[2]})
		return nil
	}
	p.state = goldenReqBody
	p.body = append(p.body, line)
	return nil
}

// response reads the expected headers and body, up to the next comment,
// step or directive.
func (p *goldenParser) response(line string) error {
	if strings.HasPrefix(line, "#") || strings.HasPrefix(line, ">>>") || strings.HasPrefix(line, "===") {
		p.finish()
		return p.between(line)
	}
	if m := goldenHeaderLine.FindStringSubmatch(line); p.state == goldenRespHead && m != nil {
		p.cur.wantHeader = append(p.cur.wantHeader, [2]string{m[1], m[2]})
		return nil
	}
	p.state = goldenRespBody
	p.body = append(p.body, line)
	return nil
}

func (p *goldenParser) takeBody() string {
	body := strings.TrimSpace(strings.Join(p.body, "\n"))
	p.body = nil
	return body
}

// finish ends the step being read, if any.
func (p *goldenParser) finish() {
	if p.cur != nil {
		p.cur.wantBody = p.takeBody()
		p.steps = append(p.steps, *p.cur)
	}
	p.cur, p.state = nil, goldenBetween
}

// goldenRun is one file's run against one server.
type goldenRun struct {
	t    *testing.T
	s    *server
	file string
	vars map[string]string
}

// step runs one step; false when the run cannot go on.
func (r *goldenRun) step(st goldenStep) bool {
	where := fmt.Sprintf("%s:%d", r.file, st.line)
	if st.note != "" {
		where += " (" + st.note + ")"
	}
	if st.directive != nil {
		return r.directive(where, st.directive)
	}
	path, err := r.expand(st.path)
	if err != nil {
		r.t.Errorf("%s: %s %s: %v", where, st.method, st.path, err)
		return false
	}
	rep, err := r.send(st, path)
	if err != nil {
		r.t.Errorf("%s: %s %s: %v", where, st.method, path, err)
		return false
	}
	if problems := r.check(st, rep); len(problems) > 0 {
		r.t.Errorf("%s: %s %s:\n  %s\n--- want %d\n%s\n--- got %d\n%s", where, st.method, path,
			strings.Join(problems, "\n  "), st.status, st.wantBody, rep.status, goldenPretty(rep.raw))
	}
	return true
}

// check lists how a reply differs from the step's expected response. Of
// another status only the status is named: its headers and body differ
// throughout, and the two documents the failure shows say more.
func (r *goldenRun) check(st goldenStep, rep goldenReply) []string {
	if rep.status != st.status {
		return []string{fmt.Sprintf("status %d, want %d", rep.status, st.status)}
	}
	var problems []string
	for _, h := range st.wantHeader {
		got, present := rep.header[http.CanonicalHeaderKey(h[0])]
		switch {
		case h[1] == "" && present:
			problems = append(problems, fmt.Sprintf("header %s: %q, want none", h[0], got[0]))
		case h[1] != "" && !present:
			problems = append(problems, fmt.Sprintf("header %s missing, want %q", h[0], h[1]))
		case h[1] != "" && !r.matchString(h[1], got[0]):
			problems = append(problems, fmt.Sprintf("header %s: %q, want %q", h[0], got[0], h[1]))
		}
	}
	return append(problems, r.compareBody(st.wantBody, rep.raw)...)
}

func (r *goldenRun) directive(where string, d []string) bool {
	var err error
	switch d[0] {
	case "revoked":
		err = r.revoked(d[1:])
	case "maxscan":
		r.s.h.MaxScan, err = strconv.Atoi(strings.Join(d[1:], " "))
	default:
		err = fmt.Errorf("unknown directive %q", d[0])
	}
	if err != nil {
		r.t.Errorf("%s: === %s: %v", where, strings.Join(d, " "), err)
	}
	return err == nil
}

// revoked checks the users whose sessions were revoked, in order.
func (r *goldenRun) revoked(refs []string) error {
	want := []int64{}
	for _, ref := range refs {
		v, err := r.expand(ref)
		if err != nil {
			return err
		}
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return err
		}
		want = append(want, id)
	}
	if got := r.s.rev.Revoked(); !slices.Equal(got, want) {
		return fmt.Errorf("sessions of users %v revoked, want %v", got, want)
	}
	return nil
}

type goldenReply struct {
	status int
	header http.Header
	raw    []byte
}

// send makes the step's request to path, placeholders filled in.
func (r *goldenRun) send(st goldenStep, path string) (goldenReply, error) {
	body, err := r.expand(st.reqBody)
	if err != nil {
		return goldenReply{}, err
	}
	req, err := http.NewRequestWithContext(r.t.Context(), st.method, r.s.url+goldenEscape(path), strings.NewReader(body))
	if err != nil {
		return goldenReply{}, err
	}
	req.Header.Set("Authorization", "Bearer "+r.s.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json; charset=utf-8")
	}
	for _, h := range st.reqHeader {
		v, err := r.expand(h[1])
		if err != nil {
			return goldenReply{}, err
		}
		req.Header.Del(h[0])
		if v != "" {
			req.Header.Set(h[0], v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return goldenReply{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return goldenReply{status: resp.StatusCode, header: resp.Header, raw: raw}, err
}

var goldenPlaceholder = regexp.MustCompile(`\{\{([^{}]*)\}\}`)

// expand fills {{NAME}}, {{base}} and {{token}} into request text.
func (r *goldenRun) expand(s string) (string, error) {
	var err error
	out := goldenPlaceholder.ReplaceAllStringFunc(s, func(m string) string {
		switch name := m[2 : len(m)-2]; name {
		case "base":
			return r.s.url
		case "token":
			return r.s.token
		default:
			v, ok := r.vars[name]
			if !ok && err == nil {
				err = fmt.Errorf("%s is not bound by an earlier step", m)
			}
			return v
		}
	})
	return out, err
}

// goldenEscape percent-encodes what a request target cannot hold.
func goldenEscape(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c >= 0x7f || strings.IndexByte("\"<>\\^`{|}[]", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// compareBody compares an expected body with the actual one and lists the
// differences.
func (r *goldenRun) compareBody(want string, raw []byte) []string {
	got := bytes.TrimSpace(raw)
	switch {
	case want == "" && len(got) == 0:
		return nil
	case want == "":
		return []string{"a body, want none"}
	case len(got) == 0:
		return []string{"no body"}
	}
	w, err := goldenDecode([]byte(want))
	if err != nil {
		return []string{"the expected body is not JSON: " + err.Error()}
	}
	g, err := goldenDecode(got)
	if err != nil {
		return []string{"the body is not JSON: " + err.Error()}
	}
	var d goldenDiffs
	r.compare(&d, "$", w, g)
	return d
}

func goldenDecode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("data after the JSON value")
	}
	return v, nil
}

// goldenDiffs are the differences found, one line each.
type goldenDiffs []string

func (d *goldenDiffs) add(path, format string, args ...any) {
	*d = append(*d, path+": "+fmt.Sprintf(format, args...))
}

// compare matches got against want, placeholders and all, and notes
// every difference under its path.
func (r *goldenRun) compare(d *goldenDiffs, path string, want, got any) {
	switch w := want.(type) {
	case map[string]any:
		r.compareObject(d, path, w, got)
	case []any:
		r.compareArray(d, path, w, got)
	case string:
		if g, ok := got.(string); (!ok || !r.matchString(w, g)) && w != "{{any}}" {
			d.add(path, "%s, want %s", goldenText(got), goldenText(w))
		}
	default:
		if goldenText(w) != goldenText(got) {
			d.add(path, "%s, want %s", goldenText(got), goldenText(w))
		}
	}
}

func (r *goldenRun) compareObject(d *goldenDiffs, path string, want map[string]any, got any) {
	g, ok := got.(map[string]any)
	if !ok {
		d.add(path, "%s, want an object", goldenText(got))
		return
	}
	for _, k := range goldenKeys(want) {
		switch _, ok := g[k]; {
		case !ok:
			d.add(path+"."+k, "missing, want %s", goldenText(want[k]))
		case k == "schemas":
			compareSchemas(d, path+"."+k, want[k], g[k])
		default:
			r.compare(d, path+"."+k, want[k], g[k])
		}
	}
	for _, k := range goldenKeys(g) {
		if _, ok := want[k]; !ok {
			d.add(path+"."+k, "unexpected %s", goldenText(g[k]))
		}
	}
}

func (r *goldenRun) compareArray(d *goldenDiffs, path string, want []any, got any) {
	g, ok := got.([]any)
	if !ok {
		d.add(path, "%s, want an array", goldenText(got))
		return
	}
	if len(g) != len(want) {
		d.add(path, "%d elements, want %d", len(g), len(want))
	}
	for i := range min(len(want), len(g)) {
		r.compare(d, fmt.Sprintf("%s[%d]", path, i), want[i], g[i])
	}
}

// compareSchemas compares a schemas list as a set of literal URIs: RFC
// 7643 §3 leaves its order unspecified.
func compareSchemas(d *goldenDiffs, path string, want, got any) {
	set := func(v any) []string {
		l, _ := v.([]any)
		out := make([]string, len(l))
		for i, e := range l {
			out[i] = goldenText(e)
		}
		slices.Sort(out)
		return out
	}
	if !slices.Equal(set(want), set(got)) {
		d.add(path, "%s, want %s in any order", goldenText(got), goldenText(want))
	}
}

// matchString matches an expected string, placeholders and all, and
// binds the {{id:NAME}} it meets for the first time.
func (r *goldenRun) matchString(want, got string) bool {
	if !strings.Contains(want, "{{") {
		return want == got
	}
	re, groups := r.pattern(want)
	m := re.FindStringSubmatch(got)
	if m == nil {
		return false
	}
	for i, g := range groups {
		if _, err := time.Parse(time.RFC3339, m[i+1]); g == "{{time}}" && err != nil {
			return false
		}
	}
	for i, g := range groups {
		if name, ok := strings.CutPrefix(g, "id:"); ok {
			r.vars[name] = m[i+1]
		}
	}
	return true
}

// pattern compiles an expected string into a regular expression, and
// names what each of its groups holds: "id:NAME" for a value to bind,
// "{{time}}" for a time to check.
func (r *goldenRun) pattern(want string) (*regexp.Regexp, []string) {
	var b strings.Builder
	var groups []string
	last := 0
	for _, m := range goldenPlaceholder.FindAllStringSubmatchIndex(want, -1) {
		b.WriteString(regexp.QuoteMeta(want[last:m[0]]))
		last = m[1]
		name := want[m[2]:m[3]]
		bind, isBind := strings.CutPrefix(name, "id:")
		value, bound := r.vars[strings.TrimPrefix(name, "id:")]
		switch {
		case name == "base":
			b.WriteString(regexp.QuoteMeta(r.s.url))
		case name == "any":
			b.WriteString(".*")
		case name == "time":
			groups = append(groups, "{{time}}")
			b.WriteString(`(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))`)
		case bound:
			b.WriteString(regexp.QuoteMeta(value))
		case isBind:
			groups = append(groups, "id:"+bind)
			b.WriteString("(.+?)")
		default:
			b.WriteString("[^\\s\\S]") // an unbound {{NAME}} matches nothing
		}
	}
	b.WriteString(regexp.QuoteMeta(want[last:]))
	return regexp.MustCompile(`(?s)^` + b.String() + `$`), groups
}

func goldenKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func goldenText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func goldenPretty(raw []byte) string {
	var out bytes.Buffer
	if json.Indent(&out, raw, "", "  ") != nil {
		return string(raw)
	}
	return out.String()
}

// TestGoldenCompare checks the comparison itself: a golden test is only
// worth what its comparison refuses.
func TestGoldenCompare(t *testing.T) {
	r := &goldenRun{t: t, s: &server{url: "http://gw.test"}, vars: map[string]string{}}
	tests := []struct {
		want, got string
		diffs     int
	}{
		{`{"a": 1}`, `{"a": 1}`, 0},
		{`{"a": 1}`, `{"a": 1, "b": 2}`, 1},
		{`{"a": 1, "b": 2}`, `{"a": 1}`, 1},
		{`{"a": [1, 2]}`, `{"a": [2, 1]}`, 2},
		{`{"schemas": ["x", "y"]}`, `{"schemas": ["y", "x"]}`, 0},
		{`{"schemas": ["x", "y"]}`, `{"schemas": ["x"]}`, 1},
		{`{"id": "{{id:u}}"}`, `{"id": "7"}`, 0},
		{`{"id": "{{u}}", "again": "{{id:u}}"}`, `{"id": "7", "again": "8"}`, 1},
		{`{"loc": "{{base}}/Users/{{u}}"}`, `{"loc": "http://gw.test/Users/7"}`, 0},
		{`{"loc": "{{base}}/Users/{{u}}"}`, `{"loc": "http://other/Users/7"}`, 1},
		{`{"t": "{{time}}"}`, `{"t": "2026-01-02T03:04:05Z"}`, 0},
		{`{"t": "{{time}}"}`, `{"t": "2026-13-02T03:04:05Z"}`, 1},
		{`{"t": "{{time}}"}`, `{"t": 5}`, 1},
		{`{"v": "{{any}}"}`, `{"v": {"deep": [1]}}`, 0},
		{`{"v": "W/\"{{any}}\""}`, `{"v": 3}`, 1},
		{`{"v": "{{nobody}}"}`, `{"v": ""}`, 1},
		{`{"n": 1}`, `{"n": "1"}`, 1},
	}
	for _, tt := range tests {
		if d := r.compareBody(tt.want, []byte(tt.got)); len(d) != tt.diffs {
			t.Errorf("compare %s with %s: %d differences %q, want %d", tt.got, tt.want, len(d), d, tt.diffs)
		}
	}
	if r.vars["u"] != "7" {
		t.Errorf("u bound to %q, want 7", r.vars["u"])
	}
}

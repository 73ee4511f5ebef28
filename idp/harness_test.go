package idp_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/store"
)

// harness is a whole gateway (SQLite, memory sessions) with helpers to
// register apps and users. testenv makes the node's address its base URL,
// so what the IdP publishes (metadata, Destinations) points back at it.
type harness struct {
	t    *testing.T
	env  *testenv.Env
	node *testenv.Node
	st   store.Store
	url  string // the base URL
}

func newHarness(t *testing.T, opts ...testenv.Option) *harness {
	t.Helper()
	env := testenv.Start(t, opts...)
	n := env.Nodes[0]
	return &harness{t: t, env: env, node: n, st: n.Server.Store, url: n.URL}
}

// client is a new browser.
func (h *harness) client() *testenv.Client { return testenv.NewClient(h.t) }

const password = "correct horse battery"

// user creates a user with password and adds them to groups (created as
// needed).
func (h *harness) user(email string, groups ...string) store.User {
	h.t.Helper()
	u := h.env.AddUser(h.t, email, password)
	for _, g := range groups {
		h.addToGroup(u, g)
	}
	return u
}

func (h *harness) addToGroup(u store.User, name string) store.Group {
	h.t.Helper()
	ctx := context.Background()
	g, err := h.st.GroupByName(ctx, name)
	if err != nil {
		g = store.Group{Name: name}
		if err := h.st.CreateGroup(ctx, &g); err != nil {
			h.t.Fatal(err)
		}
	}
	if err := h.st.AddMember(ctx, g.ID, u.ID); err != nil {
		h.t.Fatal(err)
	}
	return g
}

// app registers sp as a SAML app usable by groups.
func (h *harness) app(name string, sp *testSP, o spOpts, settings idp.AppSettings, groups ...string) store.App {
	h.t.Helper()
	return h.appXML(name, sp.EntityID, sp.metadataXML(h.t, o), settings, groups...)
}

func (h *harness) appXML(name, entityID, metadata string, settings idp.AppSettings, groups ...string) store.App {
	h.t.Helper()
	raw, err := json.Marshal(settings)
	if err != nil {
		h.t.Fatal(err)
	}
	a := store.App{Name: name, Kind: store.AppSAML, EntityID: entityID, Metadata: metadata,
		MFA: "off", Groups: groups, Settings: raw}
	if err := h.st.CreateApp(context.Background(), &a); err != nil {
		h.t.Fatal(err)
	}
	return a
}

// signIn signs c in as email and follows the redirect back to ret.
func (h *harness) signIn(c *testenv.Client, email, ret string) *testenv.Response {
	h.t.Helper()
	resp := c.Submit(h.url+"/login?return="+url.QueryEscape(ret), h.url+"/login",
		url.Values{"email": {email}, "password": {password}, "return": {ret}})
	return h.follow(c, resp)
}

// follow follows redirects to the gateway (not to apps).
func (h *harness) follow(c *testenv.Client, resp *testenv.Response) *testenv.Response {
	h.t.Helper()
	for i := 0; i < 10 && resp.StatusCode/100 == 3; i++ {
		loc := resp.Header.Get("Location")
		if strings.HasPrefix(loc, "/") {
			loc = h.url + loc
		}
		if !strings.HasPrefix(loc, h.url) {
			return resp
		}
		resp = c.Get(loc)
	}
	return resp
}

// loggedIn returns a client signed in as email.
func (h *harness) loggedIn(email string) *testenv.Client {
	h.t.Helper()
	c := h.client()
	if r := h.signIn(c, email, "/"); r.StatusCode != http.StatusOK {
		h.t.Fatalf("sign in as %s: %d\n%s", email, r.StatusCode, r.Body)
	}
	return c
}

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	hiddenIn   = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// postedForm reads the auto-submitting form of saml_post.html.
type postedForm struct {
	URL    string
	Fields url.Values
}

func readForm(t testing.TB, r *testenv.Response) postedForm {
	t.Helper()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("%s %s = %d, want the SAML POST page:\n%s", r.Request.Method, r.Request.URL, r.StatusCode, pageText(r.Body))
	}
	return parseForm(t, r.StatusCode, r.Body)
}

func parseForm(t testing.TB, status int, body string) postedForm {
	t.Helper()
	m := formAction.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil || !strings.Contains(body, "data-autosubmit") {
		t.Fatalf("%d, want the SAML POST page:\n%s", status, pageText(body))
	}
	f := postedForm{URL: html.UnescapeString(m[1]), Fields: url.Values{}}
	for _, in := range hiddenIn.FindAllStringSubmatch(body, -1) {
		f.Fields.Add(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return f
}

// events returns the audit events of the given type, newest first.
func (h *harness) events(typ string) []audit.Event {
	h.t.Helper()
	evs, err := h.st.ListEvents(context.Background(), store.EventFilter{Types: []string{typ}})
	if err != nil {
		h.t.Fatal(err)
	}
	return evs
}

// lastEvent is the newest event of typ, failing when there is none.
func (h *harness) lastEvent(typ string) audit.Event {
	h.t.Helper()
	evs := h.events(typ)
	if len(evs) == 0 {
		h.t.Fatalf("no %s event", typ)
	}
	return evs[0]
}

var (
	tagRE   = regexp.MustCompile(`(?s)<[^>]*>`)
	spaceRE = regexp.MustCompile(`\s+`)
)

// pageText is a page without its markup, for failure messages.
func pageText(body string) string {
	return strings.TrimSpace(spaceRE.ReplaceAllString(html.UnescapeString(tagRE.ReplaceAllString(body, " ")), " "))
}

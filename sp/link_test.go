package sp

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/store"
)

func withAttribute(name, value string) func(string) string {
	return func(x string) string {
		return strings.Replace(x, "</saml:AttributeStatement>", `<saml:Attribute Name="`+name+`"><saml:AttributeValue>`+
			value+`</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>`, 1)
	}
}

func withNameIDFormat(f string) func(string) string {
	return func(x string) string {
		return strings.Replace(x, "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress", f, 1)
	}
}

func (g *gateway) login(t *testing.T, resp func(id string) string) (*browser, int) {
	t.Helper()
	b := g.browser()
	req := b.startLogin(t, "idp=okta")
	return b, b.post(ACSPath, url.Values{"SAMLResponse": {resp(req.ID)}}).Code
}

func (g *gateway) user(t *testing.T, email string) store.User {
	t.Helper()
	u, err := g.st.UserByEmail(t.Context(), email)
	if err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	return u
}

func TestLinkByNameIDHoldsWhenEmailChanges(t *testing.T) {
	g := newGateway(t, Settings{Link: LinkByNameID})
	alice := store.User{Email: "alice@example.org"}
	if err := g.st.CreateUser(t.Context(), &alice); err != nil {
		t.Fatal(err)
	}
	m := goodMsg()
	m.NameID = "00u1a2b3c4"
	edit := withNameIDFormat("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
	b, code := g.login(t, func(id string) string { return g.answerEdited(t, id, m, edit) })
	if code != http.StatusSeeOther || b.session(t).UserID != alice.ID {
		t.Fatalf("first login: %d %+v", code, b.session(t))
	}
	if l, err := g.st.IdPLink(t.Context(), g.idpRow.ID, "00u1a2b3c4"); err != nil || l.UserID != alice.ID {
		t.Fatalf("link %+v, %v", l, err)
	}
	if evs := g.events(t, EventLinked); len(evs) != 1 || evs[0].Subject != "alice@example.org" {
		t.Fatalf("sp.linked events %+v", evs)
	}
	// Our user's email changes; the IdP still sends the old one.
	alice.Email = "alice.smith@example.org"
	if err := g.st.UpdateUser(t.Context(), alice); err != nil {
		t.Fatal(err)
	}
	b, code = g.login(t, func(id string) string { return g.answerEdited(t, id, m, edit) })
	if code != http.StatusSeeOther || b.session(t).UserID != alice.ID {
		t.Fatalf("second login: %d %+v", code, b.session(t))
	}
	if _, err := g.st.UserByEmail(t.Context(), "alice@example.org"); err == nil {
		t.Fatal("a second user was created for the old email")
	}
}

func TestLinkByNameIDRefusesTransient(t *testing.T) {
	g := newGateway(t, Settings{Link: LinkByNameID, CreateUsers: true})
	b := g.browser()
	req := b.startLogin(t, "idp=okta")
	refused(t, g, b, g.answerEdited(t, req.ID, goodMsg(),
		withNameIDFormat("urn:oasis:names:tc:SAML:2.0:nameid-format:transient")), ReasonNoSubject)
}

func TestLinkByAttributeCreatesJustInTime(t *testing.T) {
	g := newGateway(t, Settings{Link: LinkByAttribute, LinkAttribute: "employeeNumber", CreateUsers: true})
	m := goodMsg()
	m.Email = "bob@example.org"
	edit := func(x string) string {
		return withAttribute("displayName", "Bob Builder")(withAttribute("EmployeeNumber", "E-1001")(x))
	}
	b, code := g.login(t, func(id string) string { return g.answerEdited(t, id, m, edit) })
	if code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	bob := g.user(t, "bob@example.org")
	if bob.Name != "Bob Builder" || b.session(t).UserID != bob.ID {
		t.Fatalf("JIT user %+v", bob)
	}
	if l, err := g.st.IdPLink(t.Context(), g.idpRow.ID, "E-1001"); err != nil || l.UserID != bob.ID {
		t.Fatalf("link %+v, %v", l, err)
	}
	// Without the attribute there is nothing to link by.
	b = g.browser()
	req := b.startLogin(t, "idp=okta")
	refused(t, g, b, g.answer(t, req.ID, m), ReasonNoSubject)
}

func TestJustInTimeNeedsAnEmail(t *testing.T) {
	g := newGateway(t, Settings{Link: LinkByNameID, CreateUsers: true})
	m := goodMsg()
	m.NameID, m.Email = "00u9", "not-an-address"
	b := g.browser()
	req := b.startLogin(t, "idp=okta")
	refused(t, g, b, g.answerEdited(t, req.ID, m,
		withNameIDFormat("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")), ReasonNoUser)
}

func TestEmailFromUnspecifiedNameID(t *testing.T) {
	g := newGateway(t, Settings{CreateUsers: true})
	m := goodMsg()
	m.NameID, m.Email = "carol@example.org", "" // Okta's default: no email attribute
	edit := func(x string) string {
		x = withNameIDFormat("urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified")(x)
		return strings.Replace(x, `<saml:Attribute Name="email"><saml:AttributeValue></saml:AttributeValue></saml:Attribute>`, "", 1)
	}
	if _, code := g.login(t, func(id string) string { return g.answerEdited(t, id, m, edit) }); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	g.user(t, "carol@example.org")
}

func groupNames(t *testing.T, g *gateway, userID int64) []string {
	t.Helper()
	m, err := g.st.GroupsOf(t.Context(), []int64{userID})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, gr := range m[userID] {
		out = append(out, gr.Name+"|"+gr.ExternalID)
	}
	slices.Sort(out)
	return out
}

func TestGroupMapping(t *testing.T) {
	g := newGateway(t, Settings{GroupsAttribute: "Groups"})
	ctx := t.Context()
	alice := store.User{Email: "alice@example.org"}
	staff := store.Group{Name: "Staff"}                       // an admin's: joined
	keep := store.Group{Name: "keep"}                         // an admin's: kept
	stale := store.Group{Name: "old", ExternalID: "idp:okta"} // the mapping's, no longer sent: left
	for _, err := range []error{g.st.CreateUser(ctx, &alice), g.st.CreateGroup(ctx, &staff),
		g.st.CreateGroup(ctx, &keep), g.st.CreateGroup(ctx, &stale)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []int64{keep.ID, stale.ID} {
		if err := g.st.AddMember(ctx, id, alice.ID); err != nil {
			t.Fatal(err)
		}
	}
	// goodMsg sends groups "staff" and "admins".
	if _, code := g.login(t, func(id string) string { return g.answer(t, id, goodMsg()) }); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	want := []string{"Staff|", "admins|idp:okta", "keep|"}
	if got := groupNames(t, g, alice.ID); !slices.Equal(got, want) {
		t.Fatalf("groups %v, want %v", got, want)
	}
	// The same login again changes nothing.
	if _, code := g.login(t, func(id string) string { return g.answer(t, id, goodMsg()) }); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	if got := groupNames(t, g, alice.ID); !slices.Equal(got, want) {
		t.Fatalf("groups after a second login %v, want %v", got, want)
	}
}

func TestRefusalWritesNothing(t *testing.T) {
	g := newGateway(t, Settings{Link: LinkByNameID, GroupsAttribute: "groups"})
	alice := store.User{Email: "alice@example.org", Disabled: true}
	if err := g.st.CreateUser(t.Context(), &alice); err != nil {
		t.Fatal(err)
	}
	m := goodMsg()
	m.NameID = "00u7"
	b := g.browser()
	req := b.startLogin(t, "idp=okta")
	refused(t, g, b, g.answerEdited(t, req.ID, m,
		withNameIDFormat("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")), ReasonUserDisabled)
	if _, err := g.st.IdPLink(t.Context(), g.idpRow.ID, "00u7"); err == nil {
		t.Error("a refused login left its link")
	}
	if gs, err := g.st.ListGroups(t.Context()); err != nil || len(gs) != 0 {
		t.Errorf("a refused login left groups %v (%v)", gs, err)
	}
	if evs := g.events(t, EventLinked); len(evs) != 0 {
		t.Errorf("a refused login left events %+v", evs)
	}
}

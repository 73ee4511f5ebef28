package idp_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/internal/testenv"
)

// ssoOnce runs one SP-initiated sign-in for a signed-in client and returns
// the posted form and the assertion the SP accepted.
func ssoOnce(t *testing.T, h *harness, sp *testSP, c *testenv.Client) (postedForm, *saml.Assertion) {
	t.Helper()
	req := sp.authnRequest(t, nil)
	form := readForm(t, c.Get(sp.redirectURL(t, h.url, req, "")))
	a, err := sp.parse(t, form.Fields.Get("SAMLResponse"), req.ID)
	if err != nil {
		t.Fatalf("SP rejects the response: %v", err)
	}
	return form, a
}

func TestAttributeMapping(t *testing.T) {
	h, sp := oneApp(t, idp.AppSettings{Attributes: []idp.AttributeMapping{
		{Name: "mail", Source: "email"}, {Name: "displayName", Source: "name"},
		{Name: "first", Source: "given_name"}, {Name: "last", Source: "family_name"},
		{Name: "memberOf", Source: "groups"}, {Name: "dept", Source: "attr:department"},
		{Name: "tenant", Value: "acme"}, {Name: "missing", Source: "attr:nope"},
	}})
	ctx := context.Background()
	u, _ := h.st.UserByEmail(ctx, "ada@example.com")
	u.Name, u.Attributes = "Ada King Lovelace", map[string]string{"department": "R&D"}
	must(t, h.st.UpdateUser(ctx, u))
	h.addToGroup(u, "admins")

	_, a := ssoOnce(t, h, sp, h.loggedIn("ada@example.com"))
	for name, want := range map[string]string{
		"mail": "ada@example.com", "displayName": "Ada King Lovelace", "first": "Ada",
		"last": "King Lovelace", "memberOf": "admins,staff", "dept": "R&D", "tenant": "acme", "amr": "pwd",
	} {
		if got := strings.Join(values(a, name), ","); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if values(a, "missing") != nil || values(a, "email") != nil {
		t.Error("unmapped or empty attributes were sent")
	}
}

func TestDefaultAttributes(t *testing.T) {
	h, sp := oneApp(t, idp.AppSettings{})
	_, a := ssoOnce(t, h, sp, h.loggedIn("ada@example.com"))
	// testenv names users "Test <email>".
	for name, want := range map[string]string{"email": "ada@example.com", "name": "Test ada@example.com",
		"given_name": "Test", "family_name": "ada@example.com", "groups": "staff"} {
		if got := strings.Join(values(a, name), ","); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

func TestNameIDFormats(t *testing.T) {
	h := newHarness(t)
	ada := h.user("ada@example.com", "staff")
	ctx := context.Background()
	ada.Attributes = map[string]string{"employee": "E-1815"}
	must(t, h.st.UpdateUser(ctx, ada))
	key := h.node.Server.Master.Derive("saml persistent nameid", 32)
	cases := []struct {
		settings idp.AppSettings
		format   saml.NameIDFormat
		value    func(appID int64) string
	}{
		{idp.AppSettings{}, saml.EmailAddressNameIDFormat, func(int64) string { return "ada@example.com" }},
		{idp.AppSettings{NameIDFormat: idp.NameIDUnspecified}, saml.UnspecifiedNameIDFormat, func(int64) string { return "ada@example.com" }},
		{idp.AppSettings{NameIDFormat: idp.NameIDPersistent}, saml.PersistentNameIDFormat, func(id int64) string {
			m := hmac.New(sha256.New, key)
			fmt.Fprintf(m, "%d|%d", id, ada.ID)
			return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
		}},
		{idp.AppSettings{NameIDFormat: idp.NameIDUnspecified, NameIDAttribute: "id"}, saml.UnspecifiedNameIDFormat,
			func(int64) string { return strconv.FormatInt(ada.ID, 10) }},
		{idp.AppSettings{NameIDFormat: idp.NameIDPersistent, NameIDAttribute: "employee"}, saml.PersistentNameIDFormat,
			func(int64) string { return "E-1815" }},
	}
	c := h.loggedIn("ada@example.com")
	for i, tc := range cases {
		name := fmt.Sprintf("app%d", i)
		sp := newTestSP(t, name, spOpts{})
		app := h.app(name, sp, spOpts{}, tc.settings, "staff")
		sp.trust(t, c.HTTP, h.url)
		_, a := ssoOnce(t, h, sp, c)
		if id := a.Subject.NameID; id.Format != string(tc.format) || id.Value != tc.value(app.ID) {
			t.Errorf("%+v: NameID %s %q, want %s %q", tc.settings, id.Format, id.Value, tc.format, tc.value(app.ID))
		}
	}
}

func TestTransientNameID(t *testing.T) {
	h, sp := oneApp(t, idp.AppSettings{NameIDFormat: idp.NameIDTransient})
	c := h.loggedIn("ada@example.com")
	_, a1 := ssoOnce(t, h, sp, c)
	_, a2 := ssoOnce(t, h, sp, c)
	_, a3 := ssoOnce(t, h, sp, h.loggedIn("ada@example.com"))
	id1, id2, id3 := a1.Subject.NameID, a2.Subject.NameID, a3.Subject.NameID
	if id1.Format != string(saml.TransientNameIDFormat) || id1.Value != id2.Value || id1.Value == id3.Value || strings.Contains(id1.Value, "ada") {
		t.Errorf("transient NameIDs %q %q %q: want one per session, opaque", id1.Value, id2.Value, id3.Value)
	}
	if a1.AuthnStatements[0].SessionIndex != a2.AuthnStatements[0].SessionIndex {
		t.Error("SessionIndex changed within a session")
	}
}

func TestSigningModes(t *testing.T) {
	for _, tc := range []struct {
		sign                string
		response, assertion bool
	}{
		{"", false, true}, {idp.SignAssertion, false, true}, {idp.SignResponse, true, false}, {idp.SignBoth, true, true},
	} {
		t.Run("sign="+tc.sign, func(t *testing.T) {
			h, sp := oneApp(t, idp.AppSettings{Sign: tc.sign})
			form, _ := ssoOnce(t, h, sp, h.loggedIn("ada@example.com"))
			doc := responseDoc(t, form)
			if got := hasSignature(doc.Root()); got != tc.response {
				t.Errorf("Response signed = %v, want %v", got, tc.response)
			}
			if got := hasSignature(doc.Root().SelectElement("Assertion")); got != tc.assertion {
				t.Errorf("Assertion signed = %v, want %v", got, tc.assertion)
			}
		})
	}
}

func TestEncryption(t *testing.T) {
	for _, tc := range []struct{ setting, algorithm string }{
		{idp.EncryptAES256GCM, "http://www.w3.org/2009/xmlenc11#aes256-gcm"},
		{idp.EncryptAES128CBC, "http://www.w3.org/2001/04/xmlenc#aes128-cbc"},
	} {
		t.Run(tc.setting, func(t *testing.T) {
			h, sp := oneApp(t, idp.AppSettings{Encrypt: tc.setting, Sign: idp.SignBoth})
			form, a := ssoOnce(t, h, sp, h.loggedIn("ada@example.com"))
			doc := responseDoc(t, form)
			if doc.Root().SelectElement("Assertion") != nil {
				t.Fatal("assertion sent in the clear")
			}
			methods := doc.FindElements("//EncryptedAssertion/EncryptedData/EncryptionMethod")
			if len(methods) != 1 || methods[0].SelectAttrValue("Algorithm", "") != tc.algorithm {
				t.Fatalf("EncryptionMethod = %v", methods)
			}
			if a.Subject.NameID.Value != "ada@example.com" {
				t.Errorf("decrypted NameID = %q", a.Subject.NameID.Value)
			}
		})
	}
}

func TestEncryptionWithoutKeyIsRefused(t *testing.T) {
	h := newHarness(t)
	h.user("ada@example.com", "staff")
	sp := newTestSP(t, "wiki", spOpts{})
	h.app("Wiki", sp, spOpts{noEncryption: true}, idp.AppSettings{Encrypt: idp.EncryptAES256GCM}, "staff")
	c := h.loggedIn("ada@example.com")
	sp.trust(t, c.HTTP, h.url)
	r := c.Get(sp.redirectURL(t, h.url, sp.authnRequest(t, nil), ""))
	if r.StatusCode != http.StatusInternalServerError || strings.Contains(r.Body, "SAMLResponse") {
		t.Fatalf("= %d, want 500 and no Response", r.StatusCode)
	}
}

func responseDoc(t *testing.T, f postedForm) *etree.Document {
	t.Helper()
	raw, _ := base64.StdEncoding.DecodeString(f.Fields.Get("SAMLResponse"))
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	return doc
}

// hasSignature reports whether el has a ds:Signature child, placed right
// after the Issuer as the schema wants (saml-core §2.3.3, §3.2.1).
func hasSignature(el *etree.Element) bool {
	if el == nil {
		return false
	}
	kids := el.ChildElements()
	i := slices.IndexFunc(kids, func(k *etree.Element) bool { return k.Tag == "Signature" })
	return i == 1 && kids[0].Tag == "Issuer"
}

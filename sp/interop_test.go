package sp

import (
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
)

// TestInteropCrewjam validates a Response made by an independent IdP,
// crewjam/saml's IdentityProvider: its DefaultAssertionMaker and
// MakeResponse, which sign the Assertion and then the Response.
func TestInteropCrewjam(t *testing.T) {
	kp := loadKey(t, "idp")
	metadata, _ := url.Parse("https://idp.example.org/metadata")
	idp := &saml.IdentityProvider{Key: kp.key, Certificate: kp.cert, MetadataURL: *metadata,
		Clock: dsig.NewFakeClockAt(now)}
	acs := saml.IndexedEndpoint{Binding: saml.HTTPPostBinding, Location: acsURL}
	spd := saml.SPSSODescriptor{AssertionConsumerServices: []saml.IndexedEndpoint{acs}}
	req := &saml.IdpAuthnRequest{
		IDP:                     idp,
		HTTPRequest:             httptest.NewRequest("POST", "https://idp.example.org/sso", nil),
		Now:                     now,
		Request:                 saml.AuthnRequest{ID: requestID},
		ServiceProviderMetadata: &saml.EntityDescriptor{EntityID: spEntity, SPSSODescriptors: []saml.SPSSODescriptor{spd}},
		SPSSODescriptor:         &spd,
		ACSEndpoint:             &acs,
	}
	session := &saml.Session{ID: "s1", Index: "_crewjam-sess", NameID: "bob@example.org", UserEmail: "bob@example.org",
		Groups: []string{"ops"}, CreateTime: now, ExpireTime: now.Add(2 * time.Hour)}
	if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, session); err != nil {
		t.Fatal(err)
	}
	if err := req.MakeResponse(); err != nil {
		t.Fatal(err)
	}
	doc := etreeDoc(req.ResponseEl)
	e := expect(kp.cert)
	e.IdPEntityID = metadata.String()
	e.Want = SignedBoth
	a, err := ParseResponse(encode(doc), e)
	if err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	if a.NameID != "bob@example.org" || a.SessionIndex != "_crewjam-sess" {
		t.Errorf("got %+v", a)
	}
}

func etreeDoc(el *etree.Element) string {
	d := etree.NewDocument()
	d.SetRoot(el)
	s, _ := d.WriteToString()
	return s
}

package testenv_test

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/internal/testenv"
)

// TestSPMetadataParsesWithCrewjam proves the IdP (built on crewjam/saml) can
// register the SP from its metadata.
func TestSPMetadataParsesWithCrewjam(t *testing.T) {
	for _, opts := range []testenv.SPOptions{
		{},
		{SignAuthnRequests: true, WantAssertionsSigned: true, Encryption: true, SLO: true, EntityID: "urn:test:sp"},
	} {
		sp := testenv.NewSP(t, opts)
		var md saml.EntityDescriptor
		if err := xml.Unmarshal(sp.Metadata(), &md); err != nil {
			t.Fatalf("crewjam: %v\n%s", err, sp.Metadata())
		}
		if md.EntityID != sp.EntityID() || len(md.SPSSODescriptors) != 1 {
			t.Fatalf("entity %q with %d SPSSODescriptors, want %q with 1", md.EntityID, len(md.SPSSODescriptors), sp.EntityID())
		}
		d := md.SPSSODescriptors[0]
		if acs := d.AssertionConsumerServices; len(acs) != 1 || acs[0].Binding != saml.HTTPPostBinding || acs[0].Location != sp.ACSURL() {
			t.Errorf("ACS = %+v, want HTTP-POST at %s", acs, sp.ACSURL())
		}
		if got := *d.AuthnRequestsSigned; got != opts.SignAuthnRequests {
			t.Errorf("AuthnRequestsSigned = %v", got)
		}
		if got := *d.WantAssertionsSigned; got != opts.WantAssertionsSigned {
			t.Errorf("WantAssertionsSigned = %v", got)
		}
		wantSLO := map[bool]int{false: 0, true: 2}[opts.SLO]
		if len(d.SingleLogoutServices) != wantSLO {
			t.Errorf("%d SingleLogoutServices, want %d", len(d.SingleLogoutServices), wantSLO)
		}
		checkKeys(t, sp, d.KeyDescriptors)
	}
}

func checkKeys(t *testing.T, sp *testenv.SP, keys []saml.KeyDescriptor) {
	t.Helper()
	want := map[string][]byte{"signing": sp.SigningCert().Raw}
	if c := sp.EncryptionCert(); c != nil {
		want["encryption"] = c.Raw
	}
	if len(keys) != len(want) {
		t.Fatalf("%d KeyDescriptors, want %d", len(keys), len(want))
	}
	for _, k := range keys {
		der, _ := base64.StdEncoding.DecodeString(k.KeyInfo.X509Data.X509Certificates[0].Data)
		if !bytes.Equal(der, want[k.Use]) {
			t.Errorf("KeyDescriptor use=%q has the wrong certificate", k.Use)
		}
	}
}

// login runs SP-initiated SSO through the IdP with the binding and returns
// the SP's record of it.
func login(t *testing.T, sp *testenv.SP, c *testenv.Client, binding string, opts ...testenv.AuthnOption) *testenv.SPLogin {
	t.Helper()
	var page *testenv.Response
	if binding == saml.HTTPPostBinding {
		page = sp.PostAuthnRequest(c, "relay-"+binding, opts...)
	} else {
		page = c.Get(sp.AuthnRequestURL("relay-"+binding, opts...))
	}
	if page.StatusCode != http.StatusOK {
		t.Fatalf("IdP answered %d:\n%s", page.StatusCode, page.Body)
	}
	r := testenv.PostAutoForm(c, page)
	if r.StatusCode != http.StatusOK || r.Request.URL.String() != sp.ACSURL() {
		t.Fatalf("ACS answered %s %d:\n%s", r.Request.URL, r.StatusCode, r.Body)
	}
	l, err := sp.LastLogin()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestSPLoginThroughCrewjamIdP runs SSO with both bindings, signed requests
// (the IdP requires them, so the signature verified) and encryption.
func TestSPLoginThroughCrewjamIdP(t *testing.T) {
	for _, tc := range []struct {
		name    string
		binding string
		opts    testenv.SPOptions
	}{
		{"redirect", saml.HTTPRedirectBinding, testenv.SPOptions{}},
		{"redirect-signed", saml.HTTPRedirectBinding, testenv.SPOptions{SignAuthnRequests: true, WantAssertionsSigned: true, WantResponseSigned: true}},
		{"post-signed-encrypted", saml.HTTPPostBinding, testenv.SPOptions{SignAuthnRequests: true, Encryption: true}},
		{"redirect-encrypted", saml.HTTPRedirectBinding, testenv.SPOptions{Encryption: true, WantAssertionsSigned: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idp := newCrewjamIdP(t, func(i *saml.IdentityProvider) { i.WantAuthnRequestsSigned = tc.opts.SignAuthnRequests })
			sp := testenv.NewSP(t, tc.opts)
			idp.Register(t, sp)
			l := login(t, sp, testenv.NewClient(t), tc.binding)
			if l.NameID != "alice@example.com" || l.SessionIndex != "index-1" || l.RelayState != "relay-"+tc.binding {
				t.Errorf("login = %q/%q/%q", l.NameID, l.SessionIndex, l.RelayState)
			}
			if l.InResponseTo != sp.LastRequestID() || l.Encrypted != tc.opts.Encryption || !l.ResponseSigned || !l.AssertionSigned {
				t.Errorf("InResponseTo %q (want %q), Encrypted %v, ResponseSigned %v, AssertionSigned %v",
					l.InResponseTo, sp.LastRequestID(), l.Encrypted, l.ResponseSigned, l.AssertionSigned)
			}
			if !slices.Equal(l.Attributes["urn:oid:0.9.2342.19200300.100.1.3"], []string{"alice@example.com"}) {
				t.Errorf("attributes = %v", l.Attributes)
			}
			if l.AuthnContextClassRef == "" || len(l.Warnings()) > 0 {
				t.Errorf("AuthnContextClassRef %q, warnings %v", l.AuthnContextClassRef, l.Warnings())
			}
		})
	}
}

// TestSPAuthnRequestOptions proves ForceAuthn, IsPassive and
// RequestedAuthnContext reach the IdP inside a signed request.
func TestSPAuthnRequestOptions(t *testing.T) {
	idp := newCrewjamIdP(t, func(i *saml.IdentityProvider) { i.WantAuthnRequestsSigned = true })
	sp := testenv.NewSP(t, testenv.SPOptions{SignAuthnRequests: true})
	idp.Register(t, sp)
	ctx := "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
	for _, binding := range []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding} {
		login(t, sp, testenv.NewClient(t), binding, testenv.ForceAuthn(), testenv.IsPassive(), testenv.RequestAuthnContext("minimum", ctx))
		req := idp.Sessions.LastRequest()
		rac := req.RequestedAuthnContext
		if req.ForceAuthn == nil || !*req.ForceAuthn || req.IsPassive == nil || !*req.IsPassive ||
			rac == nil || rac.Comparison != "minimum" || rac.AuthnContextClassRef != ctx {
			t.Errorf("%s: IdP got ForceAuthn %v, IsPassive %v, RequestedAuthnContext %+v", binding, req.ForceAuthn, req.IsPassive, rac)
		}
	}
	login(t, sp, testenv.NewClient(t), saml.HTTPRedirectBinding)
	if req := idp.Sessions.LastRequest(); req.ForceAuthn != nil && *req.ForceAuthn || req.RequestedAuthnContext != nil {
		t.Error("options leaked into the next AuthnRequest")
	}
}

// responseForm has the IdP answer a new AuthnRequest and returns its form
// unsubmitted.
func responseForm(t *testing.T, sp *testenv.SP, c *testenv.Client) *testenv.AutoForm {
	t.Helper()
	page := c.Get(sp.AuthnRequestURL("state"))
	f, err := testenv.ParseAutoForm(page)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// editResponse decodes the form's SAMLResponse, changes it and re-encodes.
func editResponse(t *testing.T, f *testenv.AutoForm, edit func(*etree.Document)) url.Values {
	t.Helper()
	raw, _ := base64.StdEncoding.DecodeString(f.Fields.Get("SAMLResponse"))
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	b, _ := doc.WriteToBytes()
	fields := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(b)}, "RelayState": f.Fields["RelayState"]}
	return fields
}

// TestSPRejectsTamperedResponse proves the ACS rejects a Response whose
// signed content changed, accepts the original, and refuses a replay.
func TestSPRejectsTamperedResponse(t *testing.T) {
	idp := newCrewjamIdP(t)
	sp := testenv.NewSP(t, testenv.SPOptions{})
	idp.Register(t, sp)
	c := testenv.NewClient(t)
	f := responseForm(t, sp, c)
	tampered := editResponse(t, f, func(d *etree.Document) {
		d.FindElement("//NameID").SetText("mallory@example.com")
	})
	if r := c.PostForm(f.Action, tampered); r.StatusCode != http.StatusForbidden {
		t.Fatalf("tampered Response: %d %s", r.StatusCode, r.Body)
	}
	if l, err := sp.LastLogin(); err == nil || l != nil {
		t.Fatalf("tampered Response recorded as %+v, %v", l, err)
	}
	if r := c.PostForm(f.Action, f.Fields); r.StatusCode != http.StatusOK {
		t.Fatalf("original Response: %d %s", r.StatusCode, r.Body)
	}
	if r := c.PostForm(f.Action, f.Fields); r.StatusCode != http.StatusForbidden {
		t.Fatalf("replayed Response: %d %s", r.StatusCode, r.Body)
	}
}

// TestSPWantResponseSigned strips the Response signature (the assertion
// keeps its own): accepted by default, rejected with WantResponseSigned.
func TestSPWantResponseSigned(t *testing.T) {
	idp := newCrewjamIdP(t)
	for _, want := range []bool{false, true} {
		sp := testenv.NewSP(t, testenv.SPOptions{WantResponseSigned: want})
		idp.Register(t, sp)
		c := testenv.NewClient(t)
		f := responseForm(t, sp, c)
		unsigned := editResponse(t, f, func(d *etree.Document) {
			d.Root().RemoveChild(d.Root().SelectElement("Signature"))
		})
		r := c.PostForm(f.Action, unsigned)
		l, err := sp.LastLogin()
		if ok := r.StatusCode == http.StatusOK; ok == want || (l == nil) != want || (err == nil) == want {
			t.Errorf("WantResponseSigned=%v: unsigned Response answered %d %s; recorded %v, %v", want, r.StatusCode, r.Body, l, err)
		}
		if l != nil && (l.ResponseSigned || !l.AssertionSigned) {
			t.Errorf("ResponseSigned %v, AssertionSigned %v", l.ResponseSigned, l.AssertionSigned)
		}
	}
}

// TestSPRejectsUnknownIdP proves signatures are checked against the
// metadata's certificates: an SP that trusts another IdP rejects.
func TestSPRejectsUnknownIdP(t *testing.T) {
	idp, other := newCrewjamIdP(t), newCrewjamIdP(t)
	sp := testenv.NewSP(t, testenv.SPOptions{})
	idp.Register(t, sp)
	c := testenv.NewClient(t)
	f := responseForm(t, sp, c)
	md := strings.Replace(string(idp.MetadataXML(t)),
		base64.StdEncoding.EncodeToString(idp.Certificate.Raw), base64.StdEncoding.EncodeToString(other.Certificate.Raw), -1)
	if err := sp.Trust([]byte(md)); err != nil {
		t.Fatal(err)
	}
	if r := c.PostForm(f.Action, f.Fields); r.StatusCode != http.StatusForbidden {
		t.Fatalf("Response signed by an untrusted key: %d %s", r.StatusCode, r.Body)
	}
}

// TestSPAcceptsIdPInitiated proves an unsolicited Response (no
// InResponseTo) is accepted, as /saml/apps/{name}/launch sends.
func TestSPAcceptsIdPInitiated(t *testing.T) {
	idp := newCrewjamIdP(t)
	sp := testenv.NewSP(t, testenv.SPOptions{})
	idp.Register(t, sp)
	c := testenv.NewClient(t)
	r := testenv.PostAutoForm(c, c.Get(idp.URL+"/launch?sp="+url.QueryEscape(sp.EntityID())))
	l, err := sp.LastLogin()
	if r.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("ACS answered %d, %v", r.StatusCode, err)
	}
	if l.InResponseTo != "" || l.RelayState != "launched" || len(l.Warnings()) > 0 {
		t.Errorf("InResponseTo %q, RelayState %q, warnings %v", l.InResponseTo, l.RelayState, l.Warnings())
	}
}

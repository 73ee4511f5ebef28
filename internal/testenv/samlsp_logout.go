package testenv

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"html/template"
	"net/http"
	"net/url"

	"github.com/beevik/etree"
	saml2 "github.com/russellhaering/gosaml2"
)

// LogoutRequestURL returns the IdP SLO URL carrying a new LogoutRequest
// for nameID and sessionIndex, built by gosaml2 and signed in the query
// (HTTP-Redirect binding). When the last login has this NameID, its Format
// and qualifiers are repeated, as SAML Core §3.7.1 and §8.3 match a NameID
// on all of them. A test GETs it with its Client, then follows the chain
// with FollowSAML.
func (sp *SP) LogoutRequestURL(nameID, sessionIndex string) string {
	sp.t.Helper()
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.idp.SLO.Binding != bindingRedirect {
		sp.t.Fatal("samlsp: the IdP has no HTTP-Redirect SingleLogoutService (call Trust first)")
	}
	doc, err := sp.saml.BuildLogoutRequestDocumentNoSig(nameID, sessionIndex)
	if err != nil {
		sp.t.Fatalf("samlsp: LogoutRequest: %v", err)
	}
	sp.fixLogoutRequest(doc.Root(), nameID, sessionIndex)
	sp.remember(doc)
	u, err := sp.saml.BuildLogoutURLRedirect("", doc)
	if err != nil {
		sp.t.Fatalf("samlsp: LogoutRequest URL: %v", err)
	}
	return u
}

// fixLogoutRequest sets the NameID attributes of the matching login and
// leaves out what gosaml2 writes empty (an unknown Format, an empty
// SessionIndex: both optional). sp.mu is held.
func (sp *SP) fixLogoutRequest(req *etree.Element, nameID, sessionIndex string) {
	var l SPLogin
	if sp.acs.login != nil && sp.acs.login.NameID == nameID {
		l = *sp.acs.login
	}
	if el := req.SelectElement("NameID"); el != nil {
		for _, a := range [][2]string{{"Format", l.NameIDFormat}, {"NameQualifier", l.NameQualifier}, {"SPNameQualifier", l.SPNameQualifier}} {
			el.RemoveAttr(a[0])
			if a[1] != "" {
				el.CreateAttr(a[0], a[1])
			}
		}
	}
	if el := req.SelectElement("SessionIndex"); el != nil && sessionIndex == "" {
		req.RemoveChild(el)
	}
}

// answerLogoutRequest records a valid LogoutRequest and answers it with a
// signed Success LogoutResponse to the IdP's SLO endpoint, or with 500
// under SPOptions.FailSLO.
func (sp *SP) answerLogoutRequest(w http.ResponseWriter, r *http.Request, msg *redirectMessage, binding string) {
	var x logoutXML
	xml.Unmarshal(msg.XML, &x) // gosaml2 parsed it already
	sp.mu.Lock()
	sp.slo.requests = append(sp.slo.requests, SPLogoutRequest{
		ID: x.ID, Issuer: x.Issuer, NameID: x.NameID.Value, NameIDFormat: x.NameID.Format,
		SessionIndexes: x.SessionIndexes, Binding: binding, RelayState: msg.RelayState, XML: msg.XML,
	})
	sp.mu.Unlock()
	if sp.opts.FailSLO {
		http.Error(w, "test SP: logout failed on purpose (FailSLO)", http.StatusInternalServerError)
		return
	}
	if err := sp.writeLogoutResponse(w, r, x.ID, msg.RelayState); err != nil {
		sp.t.Errorf("samlsp: %v", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// writeLogoutResponse sends a LogoutResponse built by gosaml2 with the
// binding of the IdP's SingleLogoutService: a signed redirect, or an
// auto-submitting form with an enveloped signature.
func (sp *SP) writeLogoutResponse(w http.ResponseWriter, r *http.Request, inResponseTo, relayState string) error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	ep := sp.idp.SLO
	dest := ep.ResponseLocation
	if dest == "" {
		dest = ep.Location
	}
	doc, err := sp.saml.BuildLogoutResponseDocumentNoSig(saml2.StatusCodeSuccess, inResponseTo)
	if err != nil {
		return fmt.Errorf("LogoutResponse: %w", err)
	}
	doc.Root().CreateAttr("Destination", dest)
	if ep.Binding == bindingRedirect {
		b, _ := doc.WriteToBytes()
		u, err := sp.redirectURL(dest, "SAMLResponse", b, relayState)
		if err != nil {
			return err
		}
		http.Redirect(w, r, u, http.StatusFound)
		return nil
	}
	signed, err := sp.saml.SignLogoutResponse(doc.Root())
	if err != nil {
		return fmt.Errorf("sign LogoutResponse: %w", err)
	}
	doc.SetRoot(signed)
	b, _ := doc.WriteToBytes()
	return writePostForm(w, dest, "SAMLResponse", b, relayState)
}

var spPostForm = template.Must(template.New("post").Parse(`<!DOCTYPE html>
<html><body onload="document.forms[0].submit()">
<form method="post" action="{{.Action}}">
{{range $name, $v := .Fields}}<input type="hidden" name="{{$name}}" value="{{index $v 0}}">
{{end}}<noscript><button type="submit">Continue</button></noscript>
</form></body></html>
`))

// writePostForm writes an HTTP-POST binding page (SAML Bindings §3.5.4).
func writePostForm(w http.ResponseWriter, action, param string, msg []byte, relayState string) error {
	fields := url.Values{param: {base64.StdEncoding.EncodeToString(msg)}}
	if relayState != "" {
		fields.Set("RelayState", relayState)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	return spPostForm.Execute(w, struct {
		Action string
		Fields url.Values
	}{action, fields})
}

// acceptLogoutResponse records a LogoutResponse and whether it is valid
// and answers a LogoutRequest of this SP (once).
func (sp *SP) acceptLogoutResponse(w http.ResponseWriter, msg *redirectMessage, binding string, err error) {
	var x logoutXML
	if perr := xml.Unmarshal(msg.XML, &x); perr != nil && err == nil {
		err = fmt.Errorf("samlsp: LogoutResponse: %w", perr)
	}
	resp := &SPLogoutResponse{ID: x.ID, InResponseTo: x.InResponseTo, Issuer: x.Issuer,
		Status: x.Status.Code.Value, SubStatus: x.Status.Code.Sub.Value,
		Binding: binding, RelayState: msg.RelayState, XML: msg.XML}
	sp.mu.Lock()
	switch {
	case err != nil:
	case sp.sent[x.InResponseTo] != "LogoutRequest":
		err = fmt.Errorf("samlsp: LogoutResponse InResponseTo %q is no pending LogoutRequest of this SP", x.InResponseTo)
	default:
		delete(sp.sent, x.InResponseTo)
	}
	sp.slo.resp, sp.slo.respErr = resp, err
	sp.mu.Unlock()
	switch {
	case sp.opts.FailSLO:
		http.Error(w, "test SP: logout failed on purpose (FailSLO)", http.StatusInternalServerError)
	case err != nil:
		sp.t.Logf("samlsp: /slo rejected a LogoutResponse: %v", err)
		http.Error(w, "LogoutResponse rejected: "+err.Error(), http.StatusBadRequest)
	default:
		fmt.Fprintln(w, "signed out of the test SP")
	}
}

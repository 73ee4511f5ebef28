package testenv

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/store"
)

// AddSAMLApp registers sp as a SAML app called name with the MFA mode
// ("required", "optional", "off") and settings (an idp.AppSettings, or nil),
// usable by every user, and makes sp trust the first node's IdP metadata.
func (e *Env) AddSAMLApp(t testing.TB, name string, sp *SP, mfa string, settings any) store.App {
	t.Helper()
	raw := []byte("{}")
	if settings != nil {
		var err error
		if raw, err = json.Marshal(settings); err != nil {
			t.Fatal(err)
		}
	}
	a := store.App{Name: name, Kind: store.AppSAML, EntityID: sp.EntityID(), Metadata: string(sp.Metadata()),
		MFA: mfa, Groups: []string{"*"}, Settings: raw}
	if err := e.Nodes[0].Server.Store.CreateApp(context.Background(), &a); err != nil {
		t.Fatalf("testenv: add app %s: %v", name, err)
	}
	resp, err := http.Get(e.Nodes[0].URL + "/saml/metadata")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	md, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.Trust(md); err != nil {
		t.Fatalf("testenv: SP trusts IdP metadata: %v", err)
	}
	return a
}

// Follow follows redirects while they stay on node (relative Locations or
// node's URL), at most ten, and returns the first answer that is not such a
// redirect.
func (c *Client) Follow(node *Node, resp *Response) *Response {
	c.t.Helper()
	for i := 0; i < 10 && resp.StatusCode/100 == 3; i++ {
		loc := resp.Header.Get("Location")
		if strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") {
			loc = node.URL + loc
		}
		if !strings.HasPrefix(loc, node.URL+"/") {
			return resp
		}
		resp = c.Get(loc)
	}
	return resp
}

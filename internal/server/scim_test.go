package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/internal/server"
	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/scim"
	"github.com/portcullis/portcullis/store"
)

// TestSCIMMounted checks the wiring: SCIM answers on the gateway with a
// token issued as `gateway api scim-token` issues it, and reissuing the
// token under the same name turns the old one away.
func TestSCIMMounted(t *testing.T) {
	env := testenv.Start(t)
	node := env.Nodes[0]
	first := issueSCIMToken(t, node.Server, "okta")

	if status, _ := scimGet(t, node.URL+"/scim/v2/ServiceProviderConfig", first); status != http.StatusOK {
		t.Fatalf("with a token: %d, want 200", status)
	}
	status, h := scimGet(t, node.URL+"/scim/v2/ServiceProviderConfig", "")
	if status != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("without a token: %d, WWW-Authenticate %q; want 401 and Bearer", status, h.Get("WWW-Authenticate"))
	}

	second := issueSCIMToken(t, node.Server, "okta")
	if status, _ := scimGet(t, node.URL+"/scim/v2/ServiceProviderConfig", first); status != http.StatusUnauthorized {
		t.Errorf("replaced token: %d, want 401", status)
	}
	if status, _ := scimGet(t, node.URL+"/scim/v2/ServiceProviderConfig", second); status != http.StatusOK {
		t.Errorf("new token: %d, want 200", status)
	}
}

// TestSCIMLastPassPath checks that enterprise.cid turns on LastPass's
// /scimapi/{cid} form, for that cid only.
func TestSCIMLastPassPath(t *testing.T) {
	node := testenv.Start(t, func(c *config.Config) { c.Enterprise.CID = "8771312" }).Nodes[0]
	token := issueSCIMToken(t, node.Server, "lastpass")
	if status, _ := scimGet(t, node.URL+"/scimapi/8771312/ServiceProviderConfig", token); status != http.StatusOK {
		t.Errorf("/scimapi/8771312: %d, want 200", status)
	}
	if status, _ := scimGet(t, node.URL+"/scimapi/999/ServiceProviderConfig", token); status != http.StatusNotFound {
		t.Errorf("/scimapi/999: %d, want 404", status)
	}
}

// issueSCIMToken does what `gateway api scim-token NAME` does.
func issueSCIMToken(t *testing.T, s *server.Server, name string) string {
	t.Helper()
	id, token, hash, err := scim.NewToken(server.SCIMTokenKey(s.Master))
	if err != nil {
		t.Fatal(err)
	}
	c := store.Credential{Kind: store.CredentialSCIM, Name: name, ClientID: id, SecretHash: hash}
	if err := s.Store.PutCredential(t.Context(), &c); err != nil {
		t.Fatal(err)
	}
	return token
}

func scimGet(t *testing.T, url, token string) (int, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

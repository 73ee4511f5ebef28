package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/internal/server"
	"github.com/portcullis/portcullis/scim"
	"github.com/portcullis/portcullis/store"
)

// scimServer serves SCIM over the store of an environment from dataEnv, with
// the token key the gateway would derive from its master secret, and
// returns the status a token gets.
func scimServer(t *testing.T, environ []string) func(token string) int {
	t.Helper()
	cfg, err := config.Load("", environ)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := server.OpenMaster(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &scim.Handler{Store: openEnvStore(t, environ), Logger: slog.New(slog.DiscardHandler),
		BaseURL: "http://gateway.test", TokenKey: server.SCIMTokenKey(m)}
	mux := http.NewServeMux()
	h.Mount(mux)
	return func(token string) int {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/scim/v2/ServiceProviderConfig", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec.Code
	}
}

func TestAPISCIMToken(t *testing.T) {
	e := dataEnv(t)
	out := mustRun(t, e, "", "api", "scim-token", "okta").stdout
	first := strings.TrimSuffix(out, "\n")
	if first == "" || strings.ContainsAny(first, " \n") {
		t.Fatalf("scim-token printed %q, want the token on one line", out)
	}

	cred, err := openEnvStore(t, e).Credential(t.Context(), store.CredentialSCIM, "okta")
	if err != nil {
		t.Fatal(err)
	}
	secret := first[strings.LastIndex(first, "_")+1:]
	if !strings.Contains(first, cred.ClientID) || len(cred.SecretHash) == 0 ||
		bytes.Contains(cred.SecretHash, []byte(secret)) || bytes.Equal(cred.SecretHash, []byte(first)) {
		t.Errorf("stored credential %+v for token %q: want the client ID in the token and only a hash of its secret", cred, first)
	}

	status := scimServer(t, e)
	if got := status(first); got != http.StatusOK {
		t.Fatalf("the issued token gets %d from SCIM, want 200", got)
	}
	var reissued map[string]any
	decode(t, mustRun(t, e, "", "api", "scim-token", "okta", "--json").stdout, &reissued)
	second, _ := reissued["token"].(string)
	if len(reissued) != 1 || second == "" || second == first {
		t.Fatalf("scim-token --json = %v, want {\"token\": a new token}", reissued)
	}
	if got := status(first); got != http.StatusUnauthorized {
		t.Errorf("the replaced token gets %d, want 401", got)
	}
	if got := status(second); got != http.StatusOK {
		t.Errorf("the new token gets %d, want 200", got)
	}
	other := strings.TrimSpace(mustRun(t, e, "", "api", "scim-token", "azure").stdout)
	if n := eventCount(t, e, eventTokenIssued); n != 3 {
		t.Errorf("%d %s events, want 3", n, eventTokenIssued)
	}

	var revoked map[string]any
	decode(t, mustRun(t, e, "", "api", "scim-token", "okta", "--revoke", "--json").stdout, &revoked)
	if revoked["name"] != "okta" || revoked["revoked"] != true {
		t.Errorf("--revoke --json = %v", revoked)
	}
	if got := status(second); got != http.StatusUnauthorized {
		t.Errorf("the revoked token gets %d, want 401", got)
	}
	if got := status(other); got != http.StatusOK {
		t.Errorf("revoking okta's token broke azure's: %d", got)
	}
	r := gw(t, e, "", "api", "scim-token", "--revoke", "okta")
	if r.code != 1 || !strings.Contains(r.stderr, `"okta" does not exist`) {
		t.Errorf("revoking a missing token: %+v, want exit 1 saying it does not exist", r)
	}
	if n := eventCount(t, e, eventTokenRevoked); n != 1 {
		t.Errorf("%d %s events, want 1", n, eventTokenRevoked)
	}
}

func TestAPIUsageErrors(t *testing.T) {
	e := dataEnv(t)
	wantUsageErrors(t, e, []usageCase{
		{[]string{"api"}, "subcommand"},
		{[]string{"api", "frob"}, "unknown api command"},
		{[]string{"api", "scim-token"}, "one name"},
		{[]string{"api", "scim-token", "a", "b"}, "one name"},
		{[]string{"api", "scim-token", " "}, "one name"},
		{[]string{"api", "scim-token", "okta", "--forever"}, "-forever"},
	})
	if creds, err := openEnvStore(t, e).ListCredentials(t.Context(), store.CredentialSCIM); err != nil || len(creds) != 0 {
		t.Errorf("usage errors stored credentials: %v %v", creds, err)
	}
}

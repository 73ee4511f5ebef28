package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/enterprise"
	"github.com/portcullis/portcullis/internal/server"
	"github.com/portcullis/portcullis/store"
)

// TestAPIEnterpriseSecret issues a secret with the CLI and uses it against
// the Enterprise API over the same store: it works, the cid chosen first is
// kept, and a new secret turns the old one away.
func TestAPIEnterpriseSecret(t *testing.T) {
	e := dataEnv(t)
	out := mustRun(t, e, "", "api", "enterprise-secret").stdout
	var cid, first string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, _ := strings.Cut(line, ": ")
		switch k {
		case "cid":
			cid = v
		case "provhash":
			first = v
		}
	}
	if len(cid) != 8 || len(first) != 64 {
		t.Fatalf("printed %q: want an 8-digit cid and a 64-digit provhash", out)
	}
	cred, err := openEnvStore(t, e).Credential(t.Context(), store.CredentialEnterprise, enterprise.CredentialName)
	if err != nil || cred.ClientID != cid || strings.Contains(string(cred.SecretHash), first) {
		t.Fatalf("stored %+v, %v", cred, err)
	}

	call := enterpriseServer(t, e)
	if body := call(cid, first); body != `{"status":"OK"}` {
		t.Fatalf("the issued secret: %s, want OK", body)
	}
	var again struct {
		CID      int64  `json:"cid"`
		Provhash string `json:"provhash"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, e, "", "api", "enterprise-secret", "--json").stdout), &again); err != nil {
		t.Fatal(err)
	}
	if again.Provhash == first || len(again.Provhash) != 64 || fmt.Sprint(again.CID) != cid {
		t.Fatalf("second secret %+v: want a new provhash and the same cid %s", again, cid)
	}
	if body := call(cid, first); !strings.Contains(body, "Authorization Error") {
		t.Fatalf("the replaced secret still works: %s", body)
	}
	if body := call(cid, again.Provhash); body != `{"status":"OK"}` {
		t.Fatalf("the new secret: %s, want OK", body)
	}
	if body := call("12345678", again.Provhash); !strings.Contains(body, "Authorization Error") {
		t.Fatalf("another cid: %s", body)
	}
	if r := gw(t, e, "", "api", "enterprise-secret", "extra"); r.code != 2 {
		t.Fatalf("an argument: exit %d", r.code)
	}
}

// enterpriseServer serves the Enterprise API over the environment's store
// with the key the gateway derives, and sends batchadd with a cid and
// provhash.
func enterpriseServer(t *testing.T, environ []string) func(cid, provhash string) string {
	t.Helper()
	cfg, err := config.Load("", environ)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := server.OpenMaster(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &enterprise.Handler{Store: openEnvStore(t, environ), Logger: slog.New(slog.DiscardHandler),
		SecretKey: server.EnterpriseSecretKey(m)}
	mux := http.NewServeMux()
	h.Mount(mux)
	return func(cid, provhash string) string {
		t.Helper()
		body := `{"cid":"` + cid + `","provhash":"` + provhash + `","cmd":"batchadd","data":[{"username":"x@example.com"}]}`
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/enterpriseapi.php", strings.NewReader(body)))
		return rec.Body.String()
	}
}

package enterprise

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/session/sessiontest"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/storetest/backends"
)

func eachBackend(t *testing.T, fn func(t *testing.T, s *server)) {
	for _, b := range backends.All {
		t.Run(b.Name, func(t *testing.T) { fn(t, newServer(t, b.Open(t))) })
	}
}

const testCID = "8771312"

var testKey = []byte("0123456789abcdef0123456789abcdef")

// server is a Handler over a real store behind httptest, with a secret.
type server struct {
	h        *Handler
	st       store.Store
	url      string
	provhash string
	rev      *sessiontest.Revoker
}

// plainHasher stands in for argon2id, which is slow, with a marked string.
type plainHasher struct{}

func (plainHasher) Hash(pw string) (string, error) { return "hashed:" + pw, nil }

func newServer(t *testing.T, st store.Store) *server {
	t.Helper()
	s := &server{st: st, rev: &sessiontest.Revoker{}}
	s.h = &Handler{Store: st, Sessions: s.rev, Hasher: plainHasher{}, Logger: slog.New(slog.DiscardHandler),
		CID: testCID, SecretKey: testKey, ResetMFA: mfa.ResetUser, Limit: 10000}
	mux := http.NewServeMux()
	s.h.Mount(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	s.url = ts.URL
	provhash, hash, err := NewSecret(testKey)
	if err != nil {
		t.Fatal(err)
	}
	c := store.Credential{Kind: store.CredentialEnterprise, Name: CredentialName, SecretHash: hash}
	if err := st.PutCredential(t.Context(), &c); err != nil {
		t.Fatal(err)
	}
	s.provhash = provhash
	return s
}

// reply is a response as tests look at it.
type reply struct {
	status int
	header http.Header
	body   string
}

// post sends body (already a full envelope) to /enterpriseapi.php.
func (s *server) post(t *testing.T, body, contentType string) reply {
	t.Helper()
	return s.send(t, http.MethodPost, Path, body, contentType)
}

// send makes any request of the server.
func (s *server) send(t *testing.T, method, path, body, contentType string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: string(raw)}
}

// cmd sends a JSON envelope with the right cid and provhash; data is JSON
// text or "" for none.
func (s *server) cmd(t *testing.T, cmd, data string) reply {
	t.Helper()
	body := `{"cid":` + testCID + `,"provhash":"` + s.provhash + `","cmd":"` + cmd + `"`
	if data != "" {
		body += `,"data":` + data
	}
	return s.post(t, body+"}", "application/json")
}

// want fails unless the reply is 200 with exactly body.
func (r reply) want(t *testing.T, body string) {
	t.Helper()
	if r.status != http.StatusOK || r.body != body {
		t.Fatalf("got %d %s\nwant 200 %s", r.status, r.body, body)
	}
}

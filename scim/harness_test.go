package scim

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/session/sessiontest"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/storetest/backends"
)

// eachBackend runs fn once per backend.
func eachBackend(t *testing.T, fn func(t *testing.T, s *server)) {
	for _, b := range backends.All {
		t.Run(b.Name, func(t *testing.T) { fn(t, newServer(t, b.Open(t))) })
	}
}

// server is a Handler over a real store behind httptest, with a token.
type server struct {
	h     *Handler
	st    store.Store
	url   string
	token string
	rev   *sessiontest.Revoker
}

// plainHasher stands in for argon2id, which is slow, with a marked string.
type plainHasher struct{}

func (plainHasher) Hash(pw string) (string, error) { return "hashed:" + pw, nil }

var testKey = []byte("0123456789abcdef0123456789abcdef")

func newServer(t *testing.T, st store.Store) *server {
	t.Helper()
	s := &server{st: st, rev: &sessiontest.Revoker{}}
	mux := http.NewServeMux()
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	s.url = ts.URL
	s.h = &Handler{Store: st, Sessions: s.rev, Hasher: plainHasher{}, Logger: slog.New(slog.DiscardHandler),
		BaseURL: ts.URL, CID: "8771312", TokenKey: testKey}
	s.h.Mount(mux)
	s.token = s.newToken(t, "okta")
	return s
}

func (s *server) newToken(t *testing.T, name string) string {
	t.Helper()
	id, token, hash, err := NewToken(testKey)
	if err != nil {
		t.Fatal(err)
	}
	c := store.Credential{Kind: store.CredentialSCIM, Name: name, ClientID: id, SecretHash: hash}
	if err := s.st.PutCredential(t.Context(), &c); err != nil {
		t.Fatal(err)
	}
	return token
}

// reply is a response as tests look at it.
type reply struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// do sends a request with the server's token. body is a JSON string or "".
func (s *server) do(t *testing.T, method, path, body string, header ...string) reply {
	t.Helper()
	return s.doAs(t, s.token, method, path, body, header...)
}

func (s *server) doAs(t *testing.T, token, method, path, body string, header ...string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json; charset=utf-8")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
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
	rep := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &rep.body); err != nil {
			t.Fatalf("%s %s: body is not a JSON object: %v\n%s", method, path, err, raw)
		}
	}
	return rep
}

// want fails unless the reply has the status.
func (r reply) want(t *testing.T, status int) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d\n%s", r.status, status, r.raw)
	}
	return r
}

// str is the string at a dotted path of the body ("meta.version").
func (r reply) str(path string) string {
	var v any = r.body
	for _, k := range strings.Split(path, ".") {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

package storetest

import (
	"testing"
	"time"

	"github.com/portcullis/portcullis/store"
)

var credentialTests = []test{
	{"CredentialPutGet", testCredentialPutGet},
	{"CredentialReplace", testCredentialReplace},
	{"CredentialClientIDConflict", testCredentialClientIDConflict},
	{"CredentialList", testCredentialList},
	{"CredentialTouchDelete", testCredentialTouchDelete},
}

func testCredentialPutGet(t *testing.T, s store.Store) {
	c := store.Credential{Kind: store.CredentialMFA, Name: "portal", ClientID: "cid-1",
		SecretHash: []byte{0, 1, 2, 0xfe, 0xff}}
	before := time.Now()
	must(t, s.PutCredential(ctx(t), &c))
	within(t, "CreatedAt", c.CreatedAt, before, time.Now())
	if c.ID <= 0 || !c.LastUsedAt.IsZero() {
		t.Fatalf("put credential: ID %d, LastUsedAt %v", c.ID, c.LastUsedAt)
	}
	got, err := s.Credential(ctx(t), store.CredentialMFA, "portal")
	must(t, err)
	equal(t, "Credential", got, c)
	got, err = s.CredentialByClientID(ctx(t), store.CredentialMFA, "cid-1")
	must(t, err)
	equal(t, "CredentialByClientID", got, c)
	_, err = s.Credential(ctx(t), store.CredentialSCIM, "portal")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.CredentialByClientID(ctx(t), store.CredentialSCIM, "cid-1")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.Credential(ctx(t), store.CredentialMFA, "other")
	wantErr(t, err, store.ErrNotFound)
}

// Putting a credential of the same kind and name replaces the old one, so
// the old secret stops working.
func testCredentialReplace(t *testing.T, s store.Store) {
	old := store.Credential{Kind: store.CredentialMFA, Name: "portal", ClientID: "old-id",
		SecretHash: []byte("old hash"), LastUsedAt: ts}
	must(t, s.PutCredential(ctx(t), &old))
	other := store.Credential{Kind: store.CredentialSCIM, Name: "portal", SecretHash: []byte("scim")}
	must(t, s.PutCredential(ctx(t), &other))
	repl := store.Credential{Kind: store.CredentialMFA, Name: "portal", ClientID: "new-id",
		SecretHash: []byte("new hash")}
	must(t, s.PutCredential(ctx(t), &repl))
	got, err := s.Credential(ctx(t), store.CredentialMFA, "portal")
	must(t, err)
	equal(t, "replacement", got, repl)
	equal(t, "secret hash", string(got.SecretHash), "new hash")
	_, err = s.CredentialByClientID(ctx(t), store.CredentialMFA, "old-id")
	wantErr(t, err, store.ErrNotFound)
	list, err := s.ListCredentials(ctx(t), store.CredentialMFA)
	must(t, err)
	equal(t, "MFA credentials", list, []store.Credential{repl})
	got, err = s.Credential(ctx(t), store.CredentialSCIM, "portal")
	must(t, err)
	equal(t, "credential of another kind", got, other)
}

func testCredentialClientIDConflict(t *testing.T, s store.Store) {
	must(t, s.PutCredential(ctx(t), &store.Credential{Kind: store.CredentialMFA, Name: "a", ClientID: "cid", SecretHash: []byte("a")}))
	wantErr(t, s.PutCredential(ctx(t), &store.Credential{Kind: store.CredentialMFA, Name: "b", ClientID: "cid", SecretHash: []byte("b")}), store.ErrConflict)
	// The same client ID under another kind, and many empty client IDs, are fine.
	must(t, s.PutCredential(ctx(t), &store.Credential{Kind: store.CredentialSCIM, Name: "b", ClientID: "cid", SecretHash: []byte("b")}))
	must(t, s.PutCredential(ctx(t), &store.Credential{Kind: store.CredentialEnterprise, Name: "x", SecretHash: []byte("x")}))
	must(t, s.PutCredential(ctx(t), &store.Credential{Kind: store.CredentialEnterprise, Name: "y", SecretHash: []byte("y")}))
	_, err := s.CredentialByClientID(ctx(t), store.CredentialEnterprise, "")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.Credential(ctx(t), store.CredentialMFA, "b")
	wantErr(t, err, store.ErrNotFound)
}

func testCredentialList(t *testing.T, s store.Store) {
	var want []store.Credential
	for _, n := range []string{"b", "a", "c"} {
		c := store.Credential{Kind: store.CredentialSCIM, Name: n, SecretHash: []byte(n)}
		must(t, s.PutCredential(ctx(t), &c))
		want = append(want, c)
	}
	must(t, s.PutCredential(ctx(t), &store.Credential{Kind: store.CredentialMFA, Name: "m", SecretHash: []byte("m")}))
	got, err := s.ListCredentials(ctx(t), store.CredentialSCIM)
	must(t, err)
	equal(t, "SCIM credentials by name", got, []store.Credential{want[1], want[0], want[2]})
	got, err = s.ListCredentials(ctx(t), store.CredentialEnterprise)
	must(t, err)
	equal(t, "enterprise credentials", len(got), 0)
}

func testCredentialTouchDelete(t *testing.T, s store.Store) {
	c := store.Credential{Kind: store.CredentialEnterprise, Name: "lp", SecretHash: []byte("h")}
	must(t, s.PutCredential(ctx(t), &c))
	must(t, s.TouchCredential(ctx(t), c.ID, ts))
	got, err := s.Credential(ctx(t), c.Kind, c.Name)
	must(t, err)
	equal(t, "LastUsedAt", got.LastUsedAt, kept(ts))
	wantErr(t, s.TouchCredential(ctx(t), c.ID+1000, ts), store.ErrNotFound)
	wantErr(t, s.DeleteCredential(ctx(t), c.ID+1000), store.ErrNotFound)
	must(t, s.DeleteCredential(ctx(t), c.ID))
	_, err = s.Credential(ctx(t), c.Kind, c.Name)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.DeleteCredential(ctx(t), c.ID), store.ErrNotFound)
}

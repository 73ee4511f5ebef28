package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/portcullis/portcullis/store"
)

var signingKeyTests = []test{
	{"SigningKeyCreateList", testSigningKeyCreateList},
	{"SigningKeyRequiredFields", testSigningKeyRequiredFields},
	{"SigningKeyDelete", testSigningKeyDelete},
	{"SigningKeyRollback", testSigningKeyRollback},
}

func newSigningKey(t *testing.T, s store.Tx, cert string, activates time.Time) store.SigningKey {
	t.Helper()
	k := store.SigningKey{CertDER: []byte(cert), KeyCiphertext: []byte("sealed " + cert), ActivatesAt: activates}
	must(t, s.CreateSigningKey(ctx(t), &k))
	return k
}

func testSigningKeyCreateList(t *testing.T, s store.Store) {
	k := store.SigningKey{CertDER: []byte{0x30, 0x82, 0x00, 0xff}, KeyCiphertext: []byte{1, 0, 2},
		ActivatesAt: ts, CreatedAt: ts.Add(-time.Hour)}
	must(t, s.CreateSigningKey(ctx(t), &k))
	if k.ID <= 0 {
		t.Fatalf("ID = %d, want positive", k.ID)
	}
	equal(t, "ActivatesAt", k.ActivatesAt, kept(ts))
	equal(t, "CreatedAt", k.CreatedAt, kept(ts.Add(-time.Hour)))

	before := time.Now()
	later := newSigningKey(t, s, "later", ts.Add(48*time.Hour))
	within(t, "default CreatedAt", later.CreatedAt, before, time.Now())
	earlier := newSigningKey(t, s, "earlier", ts.Add(-48*time.Hour))
	tie := newSigningKey(t, s, "tie", ts) // same activation as k: after it by ID

	list, err := s.ListSigningKeys(ctx(t))
	must(t, err)
	equal(t, "keys by activation then ID", list, []store.SigningKey{earlier, k, tie, later})
}

func testSigningKeyRequiredFields(t *testing.T, s store.Store) {
	for _, k := range []store.SigningKey{
		{KeyCiphertext: []byte("k"), ActivatesAt: ts},
		{CertDER: []byte("c"), ActivatesAt: ts},
		{CertDER: []byte("c"), KeyCiphertext: []byte("k")},
	} {
		wantPlainErr(t, s.CreateSigningKey(ctx(t), &k))
	}
	list, err := s.ListSigningKeys(ctx(t))
	must(t, err)
	equal(t, "keys after refusals", len(list), 0)
}

func testSigningKeyDelete(t *testing.T, s store.Store) {
	a := newSigningKey(t, s, "a", ts)
	b := newSigningKey(t, s, "b", ts.Add(time.Hour))
	must(t, s.DeleteSigningKey(ctx(t), a.ID))
	wantErr(t, s.DeleteSigningKey(ctx(t), a.ID), store.ErrNotFound)
	list, err := s.ListSigningKeys(ctx(t))
	must(t, err)
	equal(t, "keys after delete", list, []store.SigningKey{b})
}

func testSigningKeyRollback(t *testing.T, s store.Store) {
	boom := errors.New("boom")
	err := s.InTx(ctx(t), func(tx store.Tx) error {
		newSigningKey(t, tx, "a", ts)
		list, err := tx.ListSigningKeys(ctx(t)) // reads its own write
		if err != nil || len(list) != 1 {
			t.Errorf("inside the transaction: %d keys, %v", len(list), err)
		}
		return boom
	})
	wantErr(t, err, boom)
	list, err := s.ListSigningKeys(ctx(t))
	must(t, err)
	equal(t, "keys after rollback", len(list), 0)
}

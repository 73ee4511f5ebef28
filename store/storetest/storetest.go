// Package storetest is the conformance suite every store backend passes, in
// the manner of dex's storage/conformance: a backend's own test is a call to
// Run with a function that opens an empty store.
//
// The suite asserts the contract of package store as the rest of the
// gateway relies on it: sentinel errors for every missing record and broken
// uniqueness rule, case-insensitive names, exact round trips (UTC times to
// the microsecond, zero times, maps never nil, JSON settings byte for byte),
// cascades on delete, transactions that keep all or nothing, and writers
// that do not fail under concurrency.
//
// It imports testing, so only tests may import it.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/portcullis/portcullis/store"
)

// Run runs the suite. open must return a new, empty store for each call and
// arrange for it to be closed with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	for _, group := range [][]test{
		userTests, groupTests, folderTests, appTests, idpTests, idpLinkTests, credentialTests,
		enrolmentTests, eventTests, signingKeyTests, txTests, provisioningTests,
	} {
		for _, tc := range group {
			t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
		}
	}
}

type test struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// ts is a time with more precision than the store keeps, in a zone other
// than UTC; kept(ts) is what should read back.
var ts = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("CEST", 2*3600))

// kept is t as a store returns it: UTC, to the microsecond.
func kept(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

// wantPlainErr wants an error that is none of the store's sentinels, for
// input a store rejects.
func wantPlainErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("error = nil, want an error")
	}
	for _, s := range []error{store.ErrNotFound, store.ErrConflict, store.ErrUnavailable} {
		if errors.Is(err, s) {
			t.Fatalf("error = %v, want none of the sentinels", err)
		}
	}
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// within fails unless got, as a store keeps it, lies in [before, after].
func within(t *testing.T, what string, got, before, after time.Time) {
	t.Helper()
	if got.Location() != time.UTC || got.Before(kept(before)) || got.After(after) {
		t.Fatalf("%s = %v, want a UTC time in [%v, %v]", what, got, before, after)
	}
}

func newUser(t *testing.T, s store.Tx, email string) store.User {
	t.Helper()
	u := store.User{Email: email}
	must(t, s.CreateUser(t.Context(), &u))
	return u
}

func newGroup(t *testing.T, s store.Tx, name string) store.Group {
	t.Helper()
	g := store.Group{Name: name}
	must(t, s.CreateGroup(t.Context(), &g))
	return g
}

func newApp(t *testing.T, s store.Tx, name string) store.App {
	t.Helper()
	a := store.App{Name: name, Kind: store.AppSAML}
	must(t, s.CreateApp(t.Context(), &a))
	return a
}

func ids[T any](items []T, id func(T) int64) []int64 {
	out := []int64{}
	for _, it := range items {
		out = append(out, id(it))
	}
	return out
}

func userID(u store.User) int64 { return u.ID }

func ptr[T any](v T) *T { return &v }

func ctx(t *testing.T) context.Context { return t.Context() }

func email(i int) string { return fmt.Sprintf("user%d@example.com", i) }

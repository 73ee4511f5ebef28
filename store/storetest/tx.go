package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/store"
)

var txTests = []test{
	{"TxCommit", testTxCommit},
	{"TxRollbackOnError", testTxRollbackOnError},
	{"TxRollbackOnStoreError", testTxRollbackOnStoreError},
	{"TxRollbackOnPanic", testTxRollbackOnPanic},
	{"TxUsableAfterError", testTxUsableAfterError},
	{"ConcurrentWriters", testConcurrentWriters},
	{"ConcurrentConflict", testConcurrentConflict},
}

// createAndRecord is a typical request: a change and the event recording it.
func createAndRecord(tx store.Tx, t *testing.T, email string) error {
	u := store.User{Email: email}
	if err := tx.CreateUser(ctx(t), &u); err != nil {
		return err
	}
	return tx.Record(ctx(t), &audit.Event{Type: audit.UserCreated, Subject: email})
}

// wantNothing fails unless the store holds no user, group nor event.
func wantNothing(t *testing.T, s store.Store) {
	t.Helper()
	_, total, err := s.ListUsers(ctx(t), store.UserFilter{})
	must(t, err)
	groups, err := s.ListGroups(ctx(t))
	must(t, err)
	events, err := s.ListEvents(ctx(t), store.EventFilter{})
	must(t, err)
	if total+len(groups)+len(events) != 0 {
		t.Fatalf("after rollback: %d users, %d groups, %d events; want none", total, len(groups), len(events))
	}
}

func testTxCommit(t *testing.T, s store.Store) {
	err := s.InTx(ctx(t), func(tx store.Tx) error {
		if err := createAndRecord(tx, t, "a@example.com"); err != nil {
			return err
		}
		_, err := tx.UserByEmail(ctx(t), "a@example.com") // reads its own writes
		return err
	})
	must(t, err)
	if _, err := s.UserByEmail(ctx(t), "a@example.com"); err != nil {
		t.Fatalf("user after commit: %v", err)
	}
	events, err := s.ListEvents(ctx(t), store.EventFilter{Subject: "a@example.com"})
	must(t, err)
	equal(t, "events after commit", len(events), 1)
}

func testTxRollbackOnError(t *testing.T, s store.Store) {
	errStop := errors.New("stop")
	err := s.InTx(ctx(t), func(tx store.Tx) error {
		if err := tx.CreateGroup(ctx(t), &store.Group{Name: "G"}); err != nil {
			return err
		}
		if err := createAndRecord(tx, t, "a@example.com"); err != nil {
			return err
		}
		return fmt.Errorf("handler: %w", errStop)
	})
	wantErr(t, err, errStop)
	wantNothing(t, s)
}

func testTxRollbackOnStoreError(t *testing.T, s store.Store) {
	err := s.InTx(ctx(t), func(tx store.Tx) error {
		if err := createAndRecord(tx, t, "a@example.com"); err != nil {
			return err
		}
		return createAndRecord(tx, t, "A@example.com")
	})
	wantErr(t, err, store.ErrConflict)
	wantNothing(t, s)
}

// A panic rolls back and goes on; it must not leave a transaction or a lock
// behind, so it is repeated and followed by a commit.
func testTxRollbackOnPanic(t *testing.T, s store.Store) {
	for i := range 20 {
		got := func() (p any) {
			defer func() { p = recover() }()
			_ = s.InTx(ctx(t), func(tx store.Tx) error {
				if err := createAndRecord(tx, t, email(i)); err != nil {
					return err
				}
				panic("boom")
			})
			return nil
		}()
		equal(t, "recovered", got, any("boom"))
	}
	wantNothing(t, s)
	must(t, s.InTx(ctx(t), func(tx store.Tx) error { return createAndRecord(tx, t, "after@example.com") }))
}

// A store error inside a transaction undoes only the failed call: the
// caller may handle it (create-or-get) and go on, on every backend.
func testTxUsableAfterError(t *testing.T, s store.Store) {
	err := s.InTx(ctx(t), func(tx store.Tx) error {
		a := newUser(t, tx, "a@example.com")
		wantErr(t, tx.CreateUser(ctx(t), &store.User{Email: "A@example.com"}), store.ErrConflict)
		wantErr(t, tx.AddMember(ctx(t), a.ID+1000, a.ID), store.ErrConflict)
		f := store.Folder{Name: "F", Members: []store.FolderMember{member(store.MemberUser, a.ID),
			member(store.MemberUser, a.ID+1000)}}
		wantErr(t, tx.CreateFolder(ctx(t), &f), store.ErrConflict)
		_, err := tx.FolderByName(ctx(t), "F")
		wantErr(t, err, store.ErrNotFound) // not half created
		if _, err := tx.UserByEmail(ctx(t), "a@example.com"); err != nil {
			return err
		}
		newUser(t, tx, "b@example.com")
		return tx.CreateFolder(ctx(t), &store.Folder{Name: "F"})
	})
	must(t, err)
	users, _, err := s.ListUsers(ctx(t), store.UserFilter{})
	must(t, err)
	equal(t, "users", len(users), 2)
	f, err := s.FolderByName(ctx(t), "F")
	must(t, err)
	equal(t, "members of the folder made after the failed one", len(f.Members), 0)
}

// Concurrent transactions, writes outside transactions and reads all
// succeed: no SQLITE_BUSY, no lost rows.
func testConcurrentWriters(t *testing.T, s store.Store) {
	const writers, each = 8, 20
	first := newUser(t, s, "first@example.com")
	var wg sync.WaitGroup
	errs := make(chan error, writers*each*3)
	for w := range writers {
		wg.Go(func() { writeConcurrently(t, s, first.ID, w, each, errs) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	_, total, err := s.ListUsers(ctx(t), store.UserFilter{})
	must(t, err)
	equal(t, "users", total, writers*each+1)
	for typ, want := range map[string]int{audit.UserCreated: writers * each, "outside.tx": writers * each} {
		events, err := s.ListEvents(ctx(t), store.EventFilter{Types: []string{typ}})
		must(t, err)
		equal(t, typ+" events", len(events), want)
	}
}

// writeConcurrently is one writer of testConcurrentWriters, sending the
// result of each of its 3*n calls to errs.
func writeConcurrently(t *testing.T, s store.Store, firstID int64, w, n int, errs chan<- error) {
	for i := range n {
		errs <- s.InTx(ctx(t), func(tx store.Tx) error {
			// Read first, as handlers do: a transaction that reads before
			// it writes must still get to write.
			if _, err := tx.User(ctx(t), firstID); err != nil {
				return err
			}
			return createAndRecord(tx, t, fmt.Sprintf("w%d-%d@example.com", w, i))
		})
		errs <- s.Record(ctx(t), &audit.Event{Type: "outside.tx"})
		_, err := s.User(ctx(t), firstID)
		errs <- err
	}
}

// Racing to take one email, exactly one writer wins; the rest see
// ErrConflict.
func testConcurrentConflict(t *testing.T, s store.Store) {
	const racers = 8
	var wg sync.WaitGroup
	errs := make(chan error, racers)
	for i := range racers {
		wg.Go(func() {
			errs <- s.InTx(ctx(t), func(tx store.Tx) error {
				return createAndRecord(tx, t, []string{"same@example.com", "SAME@example.com"}[i%2])
			})
		})
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		if err == nil {
			won++
			continue
		}
		wantErr(t, err, store.ErrConflict)
	}
	equal(t, "winners", won, 1)
}

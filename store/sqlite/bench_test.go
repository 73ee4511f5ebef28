package sqlite

import (
	"fmt"
	"testing"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/store"
)

func BenchmarkUserByEmail(b *testing.B) {
	s := openTemp(b)
	for i := range 1000 {
		if err := s.CreateUser(b.Context(), &store.User{Email: fmt.Sprintf("u%d@example.com", i)}); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		if _, err := s.UserByEmail(b.Context(), fmt.Sprintf("U%d@example.com", i%1000)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkCreateUserTx measures a typical write request: a user and the
// event recording it, in one transaction.
func BenchmarkCreateUserTx(b *testing.B) {
	s := openTemp(b)
	i := 0
	for b.Loop() {
		err := s.InTx(b.Context(), func(tx store.Tx) error {
			u := store.User{Email: fmt.Sprintf("u%d@example.com", i)}
			if err := tx.CreateUser(b.Context(), &u); err != nil {
				return err
			}
			return tx.Record(b.Context(), &audit.Event{Type: audit.UserCreated, Subject: u.Email})
		})
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
}

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

// BenchmarkRecordConcurrent is the audit insert of a busy server: sixteen
// requests per core recording events at once, which group commit writes
// to the WAL together.
func BenchmarkRecordConcurrent(b *testing.B) {
	s := openTemp(b)
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e := audit.Event{Type: "saml.sso", Actor: "ada@example.com", Subject: "ada@example.com",
				IP: "192.0.2.1", App: "App", Outcome: audit.Success,
				Details: map[string]string{"entity_id": "https://app.example.com/metadata", "request_id": "id-1"}}
			if err := s.Record(b.Context(), &e); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

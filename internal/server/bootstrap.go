package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/store"
)

// bootstrap creates the first admin account when the directory has no users,
// with a one-time password that must be changed at first sign-in, and prints
// it with the login URL. When several nodes start at once, one wins and the
// others see a conflict and carry on.
func (s *Server) bootstrap(ctx context.Context) error {
	_, total, err := s.Store.ListUsers(ctx, store.UserFilter{Limit: 1})
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if total > 0 {
		return nil
	}
	pw := rand.Text()
	hash, err := s.Hasher.Hash(pw)
	if err != nil {
		return err
	}
	u := &store.User{Email: s.Config.Admin.Email, Name: "Administrator", PasswordHash: hash,
		Admin: true, PasswordResetRequired: true}
	err = s.Store.InTx(ctx, func(tx store.Tx) error {
		return errors.Join(tx.CreateUser(ctx, u), tx.Record(ctx, &audit.Event{
			Type: audit.UserCreated, Actor: "bootstrap", Subject: u.Email, Outcome: audit.Success,
			Details: map[string]string{"admin": "true"}}))
	})
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	login := strings.TrimSuffix(s.Config.BaseURL, "/") + "/login"
	fmt.Fprintf(s.out, "\nCreated the first admin account.\n  login:    %s\n  email:    %s\n  password: %s  (one-time: you will choose a new one at first sign-in)\n\n",
		login, u.Email, pw)
	s.Logger.Info("created first admin account", "email", u.Email, "login_url", login)
	return nil
}

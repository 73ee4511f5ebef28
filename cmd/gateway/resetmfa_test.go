package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/internal/server"
	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/store"
)

func TestUsersResetMFA(t *testing.T) {
	e := dataEnv(t)
	mustRun(t, e, "a long enough password\n", "users", "add", "ann@example.com", "--password-stdin")
	mustRun(t, e, "a long enough password\n", "users", "add", "ben@example.com", "--password-stdin")
	cfg, err := config.Load("", e)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := server.OpenStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	enrol := func(email, factor string) {
		u, err := st.UserByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateEnrolment(ctx, &store.Enrolment{UserID: u.ID, Factor: factor, Name: factor, Data: []byte("x"), Confirmed: true}); err != nil {
			t.Fatal(err)
		}
	}
	enrol("ann@example.com", "totp")
	enrol("ann@example.com", "webauthn")
	enrol("ben@example.com", "totp")

	var out map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, e, "", "users", "reset-mfa", "ann@example.com", "--json").stdout), &out); err != nil {
		t.Fatal(err)
	}
	if out["removed"] != float64(2) || out["action"] != "reset-mfa" {
		t.Errorf("reset-mfa --json = %v", out)
	}
	count := func(email string) int {
		u, _ := st.UserByEmail(ctx, email)
		es, err := st.UserEnrolments(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	if count("ann@example.com") != 0 || count("ben@example.com") != 1 {
		t.Errorf("after reset: ann has %d, ben %d enrolments; want 0 and 1", count("ann@example.com"), count("ben@example.com"))
	}
	evs, err := st.ListEvents(ctx, store.EventFilter{Types: []string{mfa.EventReset}})
	if err != nil || len(evs) != 1 || evs[0].Subject != "ann@example.com" || evs[0].Actor != "cli" || evs[0].Details["removed"] != "2" {
		t.Errorf("audit = %+v, %v", evs, err)
	}
	if r := gw(t, e, "", "users", "reset-mfa", "nobody@example.com"); r.code != 1 || !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("unknown user: %+v", r)
	}
	if r := gw(t, e, "", "users", "reset-mfa"); r.code != 2 {
		t.Errorf("no email: exit %d, want 2", r.code)
	}
}

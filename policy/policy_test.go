package policy

import (
	"slices"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	pw := Presented{Name: "password", At: ago(time.Hour)}
	totpRecent := Presented{Name: TOTP, At: ago(5 * time.Minute)}
	totpOld := Presented{Name: TOTP, At: ago(3 * time.Hour)}

	for _, tc := range []struct {
		name    string
		req     Requirement
		sub     Subject
		want    Outcome
		factors []string
	}{
		{"off allows a password session", Requirement{Mode: Off}, Subject{Factors: []Presented{pw}}, Allow, nil},
		{"empty mode is off", Requirement{}, Subject{Enrolled: []string{TOTP}}, Allow, nil},
		{"required steps up with enrolled factors in order", Requirement{Mode: Required},
			Subject{Enrolled: []string{TOTP, WebAuthn, Recovery}, Factors: []Presented{pw}}, StepUp, []string{TOTP, WebAuthn, Recovery}},
		{"required satisfied by recent totp", Requirement{Mode: Required}, Subject{Enrolled: []string{TOTP}, Factors: []Presented{pw, totpRecent}}, Allow, nil},
		{"max age makes an old factor stale", Requirement{Mode: Required, MaxAge: time.Hour},
			Subject{Enrolled: []string{TOTP}, Factors: []Presented{pw, totpOld}}, StepUp, []string{TOTP}},
		{"max age admits a recent factor", Requirement{Mode: Required, MaxAge: time.Hour},
			Subject{Enrolled: []string{TOTP}, Factors: []Presented{totpRecent}}, Allow, nil},
		{"fresh since rejects a factor from before the request", Requirement{Mode: Required, FreshSince: ago(time.Minute)},
			Subject{Enrolled: []string{TOTP}, Factors: []Presented{totpRecent}}, StepUp, []string{TOTP}},
		{"factor not in the allowed list does not count", Requirement{Mode: Required, Factors: []string{WebAuthn}},
			Subject{Enrolled: []string{TOTP, WebAuthn}, Factors: []Presented{totpRecent}}, StepUp, []string{WebAuthn}},
		{"allowed list excludes recovery", Requirement{Mode: Required, Factors: []string{WebAuthn}},
			Subject{Enrolled: []string{WebAuthn, Recovery}}, StepUp, []string{WebAuthn}},
		{"required with nothing enrolled denies", Requirement{Mode: Required}, Subject{Factors: []Presented{pw}}, Deny, nil},
		{"required with nothing enrolled enrols when configured", Requirement{Mode: Required, EnrolOnFirstUse: true},
			Subject{}, Enrol, []string{WebAuthn, Push, TOTP}},
		{"enrol offers only acceptable factors", Requirement{Mode: Required, EnrolOnFirstUse: true, Factors: []string{TOTP, Recovery}},
			Subject{}, Enrol, []string{TOTP}},
		{"required with only an unacceptable factor enrolled", Requirement{Mode: Required, Factors: []string{Push}},
			Subject{Enrolled: []string{TOTP}}, Deny, nil},
		{"optional without enrolment allows", Requirement{Mode: Optional}, Subject{Factors: []Presented{pw}}, Allow, nil},
		{"optional with enrolment steps up", Requirement{Mode: Optional}, Subject{Enrolled: []string{Push}}, StepUp, []string{Push}},
		{"optional with only recovery codes allows", Requirement{Mode: Optional}, Subject{Enrolled: []string{Recovery}}, Allow, nil},
		{"required with only recovery codes steps up with them", Requirement{Mode: Required}, Subject{Enrolled: []string{Recovery}}, StepUp, []string{Recovery}},
		{"recovery presented satisfies", Requirement{Mode: Required}, Subject{Enrolled: []string{TOTP}, Factors: []Presented{{Name: Recovery, At: now}}}, Allow, nil},
		{"upstream mfa satisfies", Requirement{Mode: Required}, Subject{Factors: []Presented{{Name: UpstreamMFA, At: now}}}, Allow, nil},
		{"password is never a second factor", Requirement{Mode: Required, Factors: []string{"password"}},
			Subject{Enrolled: []string{TOTP}, Factors: []Presented{{Name: "password", At: now}}}, Deny, nil},
		{"group required and missing denies before mfa", Requirement{Mode: Off, Groups: []string{"ops"}}, Subject{Groups: []string{"dev"}}, Deny, nil},
		{"group required and present", Requirement{Mode: Off, Groups: []string{"ops", "sre"}}, Subject{Groups: []string{"sre"}}, Allow, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(tc.req, tc.sub, now)
			if d.Outcome != tc.want || !slices.Equal(d.Factors, tc.factors) {
				t.Errorf("Decide = %v %v (%s), want %v %v", d.Outcome, d.Factors, d.Reason, tc.want, tc.factors)
			}
			if d.Reason == "" {
				t.Error("no reason given")
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": Off, "off": Off, "optional": Optional, "required": Required} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"Required", "yes", "2fa"} {
		if _, err := ParseMode(in); err == nil {
			t.Errorf("ParseMode(%q) accepted", in)
		}
	}
}

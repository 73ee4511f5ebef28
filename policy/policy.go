// Package policy makes the access decision of the MFA pipeline: given what
// an app or a forward-auth rule requires, who the user is and what the
// session has already proven, it answers allow, deny, step up (with which
// factors) or enrol first. It is pure: no I/O, no clock of its own, so every
// rule below is a table test.
//
// Decisions:
//   - Modes: "off" never asks for a second factor; "required" always does;
//     "optional" asks only users who have enrolled an acceptable factor
//     (Keycloak's "conditional OTP"), so enrolling makes an account
//     stronger everywhere without locking out those who have not.
//   - A second factor counts when it is acceptable (Factors empty means any
//     second factor), no older than MaxAge (0: the session's lifetime) and
//     presented at or after FreshSince (ForceAuthn: after the request came).
//     Password and upstream sign-in are never second factors; an upstream
//     assertion whose MFA statement the IdP is trusted for is recorded by the
//     broker as the factor "upstream_mfa", which counts like any other.
//   - Recovery codes are a fallback for a lost device: they satisfy any
//     requirement whose factor list is empty or names "recovery", but do not
//     count as an enrolment (a user with only codes left must enrol again
//     where MFA is required).
//   - Groups: when a requirement names groups, the user must be in at least
//     one of them, or the answer is deny, before any factor is asked for.
//   - A requirement to step up that the user cannot meet (no acceptable
//     factor enrolled) is answered Enrol when enrol-on-first-use is on, and
//     deny with the reason "no acceptable factor enrolled" otherwise.
//
// policy is layer 0: it imports only the standard library.
package policy

import (
	"fmt"
	"slices"
	"time"
)

// Mode is an app's or rule's MFA setting.
type Mode string

// Modes.
const (
	Off      Mode = "off"
	Optional Mode = "optional"
	Required Mode = "required"
)

// ParseMode accepts the three modes; "" is Off.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case "", Off:
		return Off, nil
	case Optional, Required:
		return Mode(s), nil
	}
	return "", fmt.Errorf("policy: mfa mode %q: want required, optional or off", s)
}

// Factor names, as the session records them.
const (
	TOTP        = "totp"
	WebAuthn    = "webauthn"
	Push        = "push"
	Recovery    = "recovery"
	UpstreamMFA = "upstream_mfa"
)

// SecondFactors lists every factor that can satisfy MFA.
var SecondFactors = []string{TOTP, WebAuthn, Push, Recovery, UpstreamMFA}

// Requirement is what an app or rule asks of a request.
type Requirement struct {
	Mode Mode
	// Factors lists the acceptable second factors; empty means any.
	Factors []string
	// MaxAge bounds how old the second factor may be; 0: any age.
	MaxAge time.Duration
	// FreshSince, when set, demands a second factor presented at or after
	// it (ForceAuthn: after the request arrived).
	FreshSince time.Time
	// Groups, when not empty, admits only members of at least one.
	Groups []string
	// EnrolOnFirstUse turns "no factor to step up with" into Enrol
	// instead of Deny.
	EnrolOnFirstUse bool
}

// Presented is a factor the session has proven, and when.
type Presented struct {
	Name string
	At   time.Time
}

// Subject is what is known about the user and the session.
type Subject struct {
	Groups []string
	// Enrolled lists the user's confirmed factors (by kind, repeats
	// allowed); "recovery" when they hold unused recovery codes.
	Enrolled []string
	// Factors lists the factors the session has presented.
	Factors []Presented
}

// Outcome is the kind of answer.
type Outcome int

// Outcomes.
const (
	Allow Outcome = iota
	Deny
	StepUp
	Enrol
)

func (o Outcome) String() string {
	return [...]string{"allow", "deny", "step_up", "enrol"}[o]
}

// Decision is the answer.
type Decision struct {
	Outcome Outcome
	// Factors, for StepUp, are the enrolled factors that would satisfy
	// the requirement, in SecondFactors order; for Enrol, the factors
	// the user may enrol (the acceptable ones, recovery aside).
	Factors []string
	// Reason says why, for logs and the audit trail.
	Reason string
}

// Decide answers req for sub at time now.
func Decide(req Requirement, sub Subject, now time.Time) Decision {
	if len(req.Groups) > 0 && !intersects(req.Groups, sub.Groups) {
		return Decision{Outcome: Deny, Reason: "not in a required group"}
	}
	if req.Mode == Off || req.Mode == "" {
		return Decision{Outcome: Allow, Reason: "mfa off"}
	}
	if f, ok := satisfied(req, sub.Factors, now); ok {
		return Decision{Outcome: Allow, Reason: "second factor " + f + " presented"}
	}
	usable := usableFactors(req, sub.Enrolled)
	hasDevice := slices.ContainsFunc(usable, func(f string) bool { return f != Recovery })
	switch {
	case len(usable) > 0 && (req.Mode == Required || hasDevice):
		return Decision{Outcome: StepUp, Factors: usable, Reason: "second factor needed"}
	case req.Mode == Optional:
		return Decision{Outcome: Allow, Reason: "mfa optional and no factor enrolled"}
	case req.EnrolOnFirstUse:
		return Decision{Outcome: Enrol, Factors: enrollable(req), Reason: "no acceptable factor enrolled"}
	}
	return Decision{Outcome: Deny, Reason: "no acceptable factor enrolled"}
}

// Accepts reports whether factor f may satisfy req.
func (req Requirement) Accepts(f string) bool {
	if !slices.Contains(SecondFactors, f) {
		return false
	}
	return len(req.Factors) == 0 || slices.Contains(req.Factors, f)
}

// satisfied returns a presented factor that meets req.
func satisfied(req Requirement, presented []Presented, now time.Time) (string, bool) {
	for _, p := range presented {
		if !req.Accepts(p.Name) {
			continue
		}
		if req.MaxAge > 0 && now.Sub(p.At) > req.MaxAge {
			continue
		}
		if !req.FreshSince.IsZero() && p.At.Before(req.FreshSince) {
			continue
		}
		return p.Name, true
	}
	return "", false
}

// usableFactors lists the enrolled factors req accepts, in SecondFactors
// order, each once. upstream_mfa cannot be presented on demand, so it is
// never offered.
func usableFactors(req Requirement, enrolled []string) []string {
	var out []string
	for _, f := range SecondFactors {
		if f != UpstreamMFA && req.Accepts(f) && slices.Contains(enrolled, f) {
			out = append(out, f)
		}
	}
	return out
}

// enrollable lists the factors a user could enrol to meet req.
func enrollable(req Requirement) []string {
	var out []string
	for _, f := range []string{WebAuthn, Push, TOTP} {
		if req.Accepts(f) {
			out = append(out, f)
		}
	}
	return out
}

func intersects(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

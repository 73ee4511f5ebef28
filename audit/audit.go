// Package audit defines the audit event, the names of event types and the
// Recorder interface through which every security-relevant action is written.
// The store persists events (store.Events satisfies Recorder) in the same
// transaction as the change they record.
//
// audit is layer 0: it imports only the standard library.
package audit

import (
	"context"
	"time"
)

// Event is one entry of the audit trail.
type Event struct {
	ID      int64
	Time    time.Time
	Type    string // one of the constants below, or a domain package's own
	Actor   string // who did it: a user's email, "cli", "api:NAME", or "" for anonymous
	Subject string // whom it concerns, usually a user's email
	IP      string
	App     string
	Outcome string // success|failure|denied
	Reason  string // the precise cause of a failure, for operators only
	Details map[string]string
}

// Outcomes.
const (
	Success = "success"
	Failure = "failure"
	Denied  = "denied"
)

// Event types written by the foundation. Domain packages add their own.
const (
	LoginSucceeded  = "login.succeeded"
	LoginFailed     = "login.failed"
	LoginThrottled  = "login.throttled"
	Logout          = "logout"
	UserCreated     = "user.created"
	UserUpdated     = "user.updated"
	UserDisabled    = "user.disabled"
	UserEnabled     = "user.enabled"
	UserDeleted     = "user.deleted"
	PasswordChanged = "user.password_changed"
	GroupCreated    = "group.created"
	GroupDeleted    = "group.deleted"
	GroupUpdated    = "group.updated"
	GroupMemberAdd  = "group.member_added"
	GroupMemberDel  = "group.member_removed"
	SessionsRevoked = "session.revoked"
)

// Recorder writes events.
type Recorder interface {
	Record(ctx context.Context, e *Event) error
}

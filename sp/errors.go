package sp

import (
	"errors"
	"fmt"
)

// Reason is the machine-readable cause of a refused Response, for the audit
// trail and metrics. The browser never sees it: callers show a generic page.
type Reason string

// Reasons of ParseResponse.
const (
	ReasonMalformed            Reason = "malformed"
	ReasonTooLarge             Reason = "too_large"
	ReasonDoctype              Reason = "doctype"
	ReasonStatus               Reason = "status"
	ReasonWrapping             Reason = "wrapping"
	ReasonMultipleAssertions   Reason = "multiple_assertions"
	ReasonEncryptedUnsupported Reason = "encrypted_unsupported"
	ReasonDecryption           Reason = "decryption"
	ReasonSignature            Reason = "signature"
	ReasonIssuer               Reason = "issuer"
	ReasonDestination          Reason = "destination"
	ReasonRecipient            Reason = "recipient"
	ReasonAudience             Reason = "audience"
	ReasonConditions           Reason = "conditions"
	ReasonExpired              Reason = "expired"
	ReasonNotYetValid          Reason = "not_yet_valid"
	ReasonSubjectConfirmation  Reason = "subject_confirmation"
	ReasonInResponseTo         Reason = "in_response_to"
)

// Error is a refused Response: Reason for machines, Msg (precise, possibly
// quoting the message) for the log.
type Error struct {
	Reason Reason
	Msg    string
}

func (e *Error) Error() string { return "sp: " + string(e.Reason) + ": " + e.Msg }

func refuse(r Reason, format string, args ...any) *Error {
	return &Error{Reason: r, Msg: fmt.Sprintf(format, args...)}
}

// ReasonOf returns the Reason of err, or "" when err is not an *Error.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

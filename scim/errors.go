package scim

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// scimTypes of RFC 7644 §3.12 that this package answers with.
const (
	invalidFilter = "invalidFilter"
	invalidSyntax = "invalidSyntax"
	invalidPath   = "invalidPath"
	invalidValue  = "invalidValue"
	noTarget      = "noTarget"
	mutability    = "mutability"
	uniqueness    = "uniqueness"
	tooMany       = "tooMany"
)

// Error is a SCIM error response (RFC 7644 §3.12). Detail is shown to the
// client: it names what was wrong with the request, never internal causes.
type Error struct {
	Status   int
	Type     string // scimType; "" when the status says it all
	Detail   string
	internal error // the cause for the log, when not the client's fault
}

func (e *Error) Error() string {
	if e.internal != nil {
		return fmt.Sprintf("scim %d: %s: %v", e.Status, e.Detail, e.internal)
	}
	return fmt.Sprintf("scim %d %s: %s", e.Status, e.Type, e.Detail)
}

func (e *Error) Unwrap() error { return e.internal }

// badRequest is a 400 of the given scimType.
func badRequest(scimType, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Type: scimType, Detail: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Detail: fmt.Sprintf(format, args...)}
}

func conflict(format string, args ...any) *Error {
	return &Error{Status: http.StatusConflict, Type: uniqueness, Detail: fmt.Sprintf(format, args...)}
}

// internal is a 500 (or 503 when the store is down) whose cause is logged,
// not shown.
func internal(err error) *Error {
	return &Error{Status: http.StatusInternalServerError, Detail: "internal error", internal: err}
}

// asError turns any error into an *Error; unknown errors are internal.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &Error{Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("request body over %d bytes", tooBig.Limit)}
	}
	return internal(err)
}

// body is the wire form of the error.
func (e *Error) body() map[string]any {
	m := map[string]any{"schemas": []string{errorSchema}, "status": strconv.Itoa(e.Status), "detail": e.Detail}
	if e.Type != "" {
		m["scimType"] = e.Type
	}
	return m
}

package web

import (
	"fmt"
	"net/http"
)

// HTTPError is a failure with what the browser may see (Status, Title,
// Message) kept apart from the cause (Err), which goes only to the log.
type HTTPError struct {
	Status  int
	Title   string
	Message string
	Err     error
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("%d %s: %v", e.Status, http.StatusText(e.Status), e.Err)
}

func (e *HTTPError) Unwrap() error { return e.Err }

// internalError is what the browser sees for any failure that is not an
// *HTTPError: the cause may hold internal detail, so it is only logged.
var internalError = HTTPError{
	Status:  http.StatusInternalServerError,
	Title:   "Something went wrong",
	Message: "Portcullis could not complete your request. Try again in a moment.",
}

package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
)

// DefaultFormLimit bounds a form ParseForm reads when no LimitBody is
// tighter. Login and settings forms are a few hundred bytes.
const DefaultFormLimit = 1 << 20

// LimitBody returns middleware that bounds request bodies to n bytes. A body
// that declares a larger Content-Length is cut off before the handler reads
// a byte of it; one that grows past n while read fails then, and
// [ParseForm] turns either into a 413. Limits nest only downwards, so a
// global LimitBody is the ceiling for every route: use the largest size any
// route accepts there and tighter limits on route groups inside it.
func LimitBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > n {
				r.Body = declaredTooLarge{r.Body, n}
			} else {
				r.Body = http.MaxBytesReader(w, r.Body, n)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// declaredTooLarge fails the first Read of a body whose Content-Length is
// over the limit, with the error MaxBytesReader would give after reading it.
type declaredTooLarge struct {
	io.ReadCloser
	limit int64
}

func (b declaredTooLarge) Read([]byte) (int, error) {
	return 0, &http.MaxBytesError{Limit: b.limit}
}

// ParseForm parses the query and, for POST, PUT and PATCH, a url-encoded
// body, within DefaultFormLimit. Its error is an *HTTPError carrying 413 for
// a body over the limit and 400 for a malformed form or a body that is not
// application/x-www-form-urlencoded; pass it to [Renderer.Fail].
func ParseForm(w http.ResponseWriter, r *http.Request) error {
	if r.PostForm != nil {
		return nil // parsed already, e.g. by CSRF.Protect
	}
	if hasBody(r.Method) && !isURLEncoded(r.Header.Get("Content-Type")) {
		return errBadForm(errors.New("content type is not application/x-www-form-urlencoded"))
	}
	r.Body = http.MaxBytesReader(w, r.Body, DefaultFormLimit)
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	return nil
}

func hasBody(method string) bool {
	return method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch
}

func isURLEncoded(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

func formError(err error) *HTTPError {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return &HTTPError{
			Status:  http.StatusRequestEntityTooLarge,
			Title:   "Request too large",
			Message: "What you sent is larger than this server accepts.",
			Err:     err,
		}
	}
	return errBadForm(err)
}

func errBadForm(err error) *HTTPError {
	return &HTTPError{
		Status:  http.StatusBadRequest,
		Title:   "Bad request",
		Message: "The form could not be read. Reload the page and try again.",
		Err:     err,
	}
}

package web

import "net/http"

// statusWriter records the status a handler sent, for the access log, the
// metrics and panic recovery. Unwrap lets http.ResponseController reach the
// real writer's Flush and deadlines.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// code is the status sent, 200 when the handler wrote nothing, as net/http
// then answers.
func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// wrote reports whether the response has started, after which its status
// can no longer change.
func (w *statusWriter) wrote() bool { return w.status != 0 }

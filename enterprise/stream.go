package enterprise

import (
	"bufio"
	"context"
	"io"
	"net/http"
)

// streamed is an answer written as it is produced (getuserdata of every
// user), so that it is never held in memory whole.
type streamed func(ctx context.Context, w io.Writer) error

// stream writes a streamed answer through a buffer. A failure before the
// buffer first fills is answered like any fault (503 when the directory is
// down); after that the status has gone, and the client sees JSON cut
// short, which no parser accepts.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, s streamed) {
	sent := &sentWriter{w: w}
	bw := bufio.NewWriterSize(sent, 64<<10)
	if err := s(r.Context(), bw); err != nil {
		if !sent.any {
			h.fault(w, r, err)
			return
		}
		h.Logger.Error("enterprise api: streaming the answer failed", "err", err)
		return
	}
	bw.Flush()
}

// sentWriter sets the headers before the first byte and remembers that it
// went.
type sentWriter struct {
	w   http.ResponseWriter
	any bool
}

func (s *sentWriter) Write(p []byte) (int, error) {
	if !s.any {
		s.any = true
		s.w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		s.w.WriteHeader(http.StatusOK)
	}
	return s.w.Write(p)
}

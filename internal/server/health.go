package server

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// readyTimeout bounds each backend check, so a hung backend makes the node
// unready instead of hanging the probe.
const readyTimeout = 2 * time.Second

// healthz answers 200 while the process serves HTTP.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// readyz answers 200 when the store and the session backend both answer,
// and 503 naming the failing one otherwise. Causes go to the log, not the
// body, which anyone may read.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	checks := map[string]func(context.Context) error{
		"store":    s.Store.Ping,
		"sessions": s.Sessions.Store().Ping,
	}
	status, body := http.StatusOK, map[string]string{}
	for name, ping := range checks {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		err := ping(ctx)
		cancel()
		body[name] = "ok"
		if err != nil {
			status, body[name] = http.StatusServiceUnavailable, "unavailable"
			s.Logger.WarnContext(r.Context(), "not ready", "backend", name, "err", err)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

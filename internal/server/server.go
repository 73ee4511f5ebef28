// Package server assembles the whole gateway from a configuration: it opens
// the store and the session backend, loads or creates the keys, creates the
// first admin account, mounts every flow on one mux behind the shared
// middleware, and serves it with a graceful shutdown. cmd/gateway runs it;
// internal/testenv starts it in-process for end-to-end tests.
//
// It is the only place (with cmd/gateway) that chooses backends. Layer 3.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/forwardauth"
	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/password"
	"github.com/portcullis/portcullis/portal"
	"github.com/portcullis/portcullis/session"
	sessionredis "github.com/portcullis/portcullis/session/redis"
	"github.com/portcullis/portcullis/store"
)

// Options carries what a caller may supply besides the configuration.
type Options struct {
	Logger *slog.Logger
	// Out receives the first-start message (admin password, login URL).
	Out io.Writer
	Now func() time.Time
}

// Server is one running gateway node.
type Server struct {
	Config   *config.Config
	Store    store.Store
	Sessions *session.Manager
	Master   *keys.Master
	// Keys is the signing key source shared by every node (a *Keyring).
	Keys keys.Source
	// Signing is the signing key that was active when the node started.
	//
	// Deprecated: keys rotate while the node runs; use Keys.
	Signing  *keys.Signing
	Hasher   *password.Hasher
	Registry *prometheus.Registry
	Logger   *slog.Logger
	Portal   *portal.Handler
	MFA      *mfa.Handler
	// ForwardAuth answers the /auth/* endpoints.
	ForwardAuth *forwardauth.Handler
	// Bus announces writes to sessions and the directory to every node,
	// and keeps this node's lease on its memo; nil without Redis sessions
	// or with forward_auth.cache off.
	Bus *sessionredis.Bus
	// Memo is forward auth's copy of recently seen sessions; nil when Bus
	// is.
	Memo *forwardauth.Memo

	handler http.Handler
	closers []io.Closer
	tasks   []func(context.Context)
	out     io.Writer
	now     func() time.Time
}

// New builds a node from cfg. On error, everything opened so far is closed.
func New(ctx context.Context, cfg *config.Config, o Options) (*Server, error) {
	s := &Server{Config: cfg, Logger: o.Logger, out: o.Out, now: o.Now,
		Hasher: &password.Hasher{Params: password.Params(cfg.Passwords.Argon2)}}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.out == nil {
		s.out = io.Discard
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	for _, step := range []func(context.Context) error{s.openKeys, s.openStore, s.openSigning, s.openSessions, s.bootstrap, s.mount} {
		if err := step(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	s.AddTask(s.refreshMetadata)
	return s, nil
}

// Handler returns the node's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Close releases the store and the session backend.
func (s *Server) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i].Close())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// Serve answers on ln, and runs the background tasks (AddTask), until ctx
// is done; then it stops the tasks and accepting, lets in-flight requests
// finish within the shutdown timeout, and returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	stopTasks := s.runTasks(ctx)
	defer stopTasks()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.Logger.Info("shutting down", "timeout", s.Config.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.Config.ShutdownTimeout.D())
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

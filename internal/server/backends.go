package server

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/session/memory"
	sessionredis "github.com/portcullis/portcullis/session/redis"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/postgres"
	"github.com/portcullis/portcullis/store/sqlite"
)

// openKeys loads the master secret. The signing keys live in the store
// (openSigning).
func (s *Server) openKeys(ctx context.Context) error {
	var created bool
	var err error
	s.Master, created, err = OpenMaster(s.Config)
	if created {
		s.Logger.Info("generated master secret", "file", filepath.Join(s.Config.DataDir, "master.key"))
	}
	return err
}

// OpenMaster returns the configured master secret, or the data dir's,
// generating it there when there is none yet (created).
func OpenMaster(cfg *config.Config) (m *keys.Master, created bool, err error) {
	if cfg.MasterSecret != "" {
		m, err = keys.NewMaster(cfg.MasterSecret)
		return m, false, err
	}
	return keys.LoadOrCreateMaster(cfg.DataDir)
}

// OpenStore opens the configured directory store.
func OpenStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	dsn := cfg.Database
	switch config.DatabaseKind(dsn) {
	case "postgres":
		st, err := postgres.Open(ctx, dsn) // its errors name the host, never the password
		if err != nil {
			return nil, err
		}
		return st, nil
	default:
		if dsn == "" {
			dsn = filepath.Join(cfg.DataDir, "portcullis.db")
		}
		st, err := sqlite.Open(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("database %s: %w", strings.TrimPrefix(dsn, "sqlite://"), err)
		}
		return st, nil
	}
}

func (s *Server) openStore(ctx context.Context) error {
	st, err := OpenStore(ctx, s.Config)
	if err != nil {
		return err
	}
	s.Store = st
	s.closers = append(s.closers, st)
	return nil
}

// OpenSessionStore opens the configured session backend.
func OpenSessionStore(ctx context.Context, cfg *config.Config) (session.Store, error) {
	if cfg.Sessions.Store == "redis" {
		st, err := sessionredis.New(ctx, cfg.Sessions.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("session store: %w", err)
		}
		return st, nil
	}
	return memory.New(), nil
}

func (s *Server) openSessions(ctx context.Context) error {
	st, err := OpenSessionStore(ctx, s.Config)
	if err != nil {
		return err
	}
	s.closers = append(s.closers, st)
	s.Registry = newRegistry()
	u, _ := url.Parse(s.Config.BaseURL)
	s.Sessions, err = session.NewManager(session.Options{
		Store:           instrument(st, s.Registry),
		HashKey:         s.Master.Derive("session cookie", 64),
		CookieName:      s.Config.Sessions.CookieName,
		CookieDomain:    s.Config.Sessions.CookieDomain,
		Secure:          u.Scheme == "https",
		IdleTimeout:     s.Config.Sessions.IdleTimeout.D(),
		AbsoluteTimeout: s.Config.Sessions.AbsoluteTimeout.D(),
		Now:             s.now,
	})
	return err
}

// RevokeSessions ends every session of the user in a shared (Redis) session
// backend. With in-memory sessions there is nothing to reach from another
// process; the server refuses a disabled or deleted user on the next request
// because it re-reads the user from the store.
func RevokeSessions(ctx context.Context, cfg *config.Config, userID int64) error {
	if cfg.Sessions.Store != "redis" {
		return nil
	}
	st, err := OpenSessionStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	_, err = st.DeleteUser(ctx, userID)
	return err
}

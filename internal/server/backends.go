package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/forwardauth"
	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/session/memory"
	sessionredis "github.com/portcullis/portcullis/session/redis"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/postgres"
	"github.com/portcullis/portcullis/store/sqlite"
	"github.com/portcullis/portcullis/store/sqlstore"
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

// OpenAdminStore opens the configured directory store for an admin command
// (the CLI). With Redis sessions and forward_auth.cache on, its writes to
// users, groups, memberships and enrolments are announced to the running nodes, so
// that a user disabled from the command line is refused on the very next
// request: the connection to Redis is made at the first such write, and a
// failure to announce is logged.
func OpenAdminStore(ctx context.Context, cfg *config.Config, logger *slog.Logger) (store.Store, error) {
	st, err := OpenStore(ctx, cfg)
	if err != nil || cfg.Sessions.Store != "redis" || !cfg.ForwardAuth.Cache {
		return st, err
	}
	h, ok := st.(interface {
		directoryHook
		OnClose(fn func())
	})
	if !ok {
		return st, nil
	}
	var (
		once     sync.Once
		sessions *busStore
	)
	h.OnDirectoryChange(func(ctx context.Context, users []int64) {
		once.Do(func() {
			st, err := OpenSessionStore(ctx, cfg, logger)
			if err != nil {
				logger.Error("session bus: cannot reach Redis; nodes may answer from memory until their copies expire", "err", err)
				return
			}
			sessions = st.(*busStore) // Redis with the cache on: always a busStore
		})
		if sessions != nil {
			sessions.announce(ctx, session.UserTopic(users...))
		}
	})
	h.OnClose(func() {
		if sessions != nil {
			sessions.Close()
		}
	})
	return st, nil
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

// OpenSessionStore opens the configured session backend. With Redis and
// forward_auth.cache on, its writes are announced on a bus of its own (a
// writer that holds no copies: the CLI), which Close closes.
func OpenSessionStore(ctx context.Context, cfg *config.Config, logger *slog.Logger) (session.Store, error) {
	if cfg.Sessions.Store != "redis" {
		return memory.New(), nil
	}
	st, err := sessionredis.New(ctx, cfg.Sessions.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("session store: %w", err)
	}
	if !cfg.ForwardAuth.Cache {
		return st, nil
	}
	bus, err := startBus(ctx, st, sessionredis.BusOptions{Logger: logger})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("session store: %w", err)
	}
	announce := announcer(bus, logger)
	return &busStore{Store: session.Announcing(st, announce), announce: announce, bus: bus, st: st}, nil
}

// busStartTimeout bounds the wait for the bus's subscription, so that a
// Redis that answered the store's ping and then went away fails start-up
// instead of hanging it.
const busStartTimeout = 5 * time.Second

// startBus starts a bus on st, waiting at most busStartTimeout.
func startBus(ctx context.Context, st *sessionredis.Store, o sessionredis.BusOptions) (*sessionredis.Bus, error) {
	ctx, cancel := context.WithTimeout(ctx, busStartTimeout)
	defer cancel()
	return st.Bus(ctx, o)
}

// busStore is a session store that announces its writes on a bus of its
// own, and whose Close also stops the bus, first.
type busStore struct {
	session.Store
	announce func(ctx context.Context, topic string)
	bus      *sessionredis.Bus
	st       session.Store
}

func (b *busStore) Close() error { return errors.Join(b.bus.Close(), b.st.Close()) }

// announceTimeout bounds one announcement: a publish, a read of the
// registry and a wait of at most a lease.
const announceTimeout = 5 * time.Second

// announcer returns the function that announces a write on bus. A write
// announces even if its caller has gone: the change is made. A failure is
// logged; the nodes cut off from Redis with it answer from memory no
// longer than their lease, and any copy ends after forwardauth's memo TTL.
func announcer(bus *sessionredis.Bus, logger *slog.Logger) func(ctx context.Context, topic string) {
	return func(ctx context.Context, topic string) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), announceTimeout)
		defer cancel()
		if err := bus.Announce(ctx, topic); err != nil {
			logger.Error("session bus: a write could not be announced; nodes may answer from memory until their copies expire",
				"topic", topicKind(topic), "err", err)
		}
	}
}

// topicKind names a topic for the log without the session's storage key.
func topicKind(topic string) string {
	key, _, all := session.ParseTopic(topic)
	switch {
	case all:
		return "groups"
	case key != "":
		return "session"
	default:
		return topic
	}
}

// directoryHook is what a store offers to announce its writes to the
// directory (sqlstore.DB).
type directoryHook interface {
	OnDirectoryChange(fn func(ctx context.Context, users []int64))
}

var _ directoryHook = (*sqlstore.DB)(nil)

// announceDirectory has st announce on bus every write to users, groups,
// memberships and enrolments. A store without the hook gets none, so the
// memo is refused for it (openSessions).
func announceDirectory(st store.Store, bus *sessionredis.Bus, logger *slog.Logger) bool {
	h, ok := st.(directoryHook)
	if ok {
		announce := announcer(bus, logger)
		h.OnDirectoryChange(func(ctx context.Context, users []int64) { announce(ctx, session.UserTopic(users...)) })
	}
	return ok
}

func (s *Server) openSessions(ctx context.Context) error {
	var st session.Store
	if s.Config.Sessions.Store == "redis" {
		rs, err := sessionredis.New(ctx, s.Config.Sessions.RedisURL)
		if err != nil {
			return fmt.Errorf("session store: %w", err)
		}
		s.closers = append(s.closers, rs)
		st = rs
		if s.Config.ForwardAuth.Cache {
			if st, err = s.openBus(ctx, rs); err != nil {
				return err
			}
		}
	} else {
		st = memory.New()
		s.closers = append(s.closers, st)
	}
	s.Registry = newRegistry()
	u, _ := url.Parse(s.Config.BaseURL)
	var err error
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
	if err != nil {
		return err
	}
	if s.Memo != nil {
		s.Memo.Key, s.Memo.Cookie, s.Memo.Stable = s.Sessions.Key, s.Sessions.FirstCookie, s.Sessions.Stable
		observeMemo(s.Registry, s.Memo, s.Bus.Trusted)
	}
	return nil
}

// openBus joins this node to the session bus, with forward auth's memo as
// what it keeps coherent, and returns rs announcing its writes. The store
// announces its directory writes on the same bus.
func (s *Server) openBus(ctx context.Context, rs *sessionredis.Store) (session.Store, error) {
	memo := &forwardauth.Memo{Now: s.now}
	bus, err := startBus(ctx, rs, sessionredis.BusOptions{Handle: memo.Invalidate, Logger: s.Logger})
	if err != nil {
		return nil, fmt.Errorf("session bus: %w", err)
	}
	s.closers = append(s.closers, bus)
	if !announceDirectory(s.Store, bus, s.Logger) {
		s.Logger.Warn("forward_auth.cache is off: the store cannot announce its writes")
		return rs, nil
	}
	memo.Trusted = bus.Trusted
	s.Bus, s.Memo = bus, memo
	return session.Announcing(rs, announcer(bus, s.Logger)), nil
}

// RevokeSessions ends every session of the user in a shared (Redis) session
// backend. With in-memory sessions there is nothing to reach from another
// process; the server refuses a disabled or deleted user on the next request
// because it re-reads the user from the store.
func RevokeSessions(ctx context.Context, cfg *config.Config, userID int64, logger *slog.Logger) error {
	if cfg.Sessions.Store != "redis" {
		return nil
	}
	st, err := OpenSessionStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	_, err = st.DeleteUser(ctx, userID)
	return err
}

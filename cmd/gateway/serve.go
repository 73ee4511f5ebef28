package main

import (
	"context"
	"fmt"
	"net"

	"github.com/portcullis/portcullis/internal/server"
)

func (c *cli) serve(ctx context.Context, args []string) error {
	fs := c.flags("serve")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	cfg, err := c.loadConfig()
	if err != nil {
		return err
	}
	logger := newLogger(cfg, c.stderr)
	for _, w := range cfg.Warnings {
		logger.Warn(w)
	}
	server.TuneRuntime()
	srv, err := server.New(ctx, cfg, server.Options{Logger: logger, Out: c.stdout})
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	logger.Info("Portcullis is listening", "addr", ln.Addr().String(), "base_url", cfg.BaseURL,
		"version", version(), "sessions", cfg.Sessions.Store)
	return srv.Serve(ctx, ln)
}

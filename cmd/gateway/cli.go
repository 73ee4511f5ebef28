package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/internal/server"
	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/store"
)

// configError marks a configuration that does not validate: exit code 2.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

// cli holds what every command shares.
type cli struct {
	env
	configPath string
}

// flags returns a flag set for one command that also takes --config, whose
// errors are usage errors and whose output goes nowhere (run prints usage).
func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Func("config", "configuration file", func(v string) error { c.configPath = v; return nil })
	return fs
}

// parse parses args with flags and positionals in any order and returns the
// positionals.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// parseNone parses a command that takes flags only.
func parseNone(fs *flag.FlagSet, args []string) error {
	pos, err := parse(fs, args)
	if err == nil && len(pos) > 0 {
		err = usagef("%s takes no arguments, got %q", fs.Name(), pos[0])
	}
	return err
}

// openStoreAndMaster opens the store and the master secret, for commands
// that make or check secrets derived from it.
func (c *cli) openStoreAndMaster(ctx context.Context) (store.Store, *config.Config, *keys.Master, error) {
	st, cfg, err := c.openStore(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	m, _, err := server.OpenMaster(cfg)
	if err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	return st, cfg, m, nil
}

// loadConfig reads and validates the configuration.
func (c *cli) loadConfig() (*config.Config, error) {
	cfg, err := config.Load(c.configPath, c.environ)
	if err != nil {
		return nil, &configError{err: err}
	}
	return cfg, nil
}

// openStore opens the configured store for an admin command.
func (c *cli) openStore(ctx context.Context) (store.Store, *config.Config, error) {
	cfg, err := c.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	st, err := server.OpenAdminStore(ctx, cfg, newLogger(cfg, c.stderr))
	return st, cfg, err
}

// newLogger builds the slog logger the configuration asks for.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func (c *cli) printJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table prints rows as aligned columns.
func (c *cli) table(header []string, rows [][]string) {
	widths := make([]int, len(header))
	for _, r := range append([][]string{header}, rows...) {
		for i, cell := range r {
			widths[i] = max(widths[i], len(cell))
		}
	}
	for _, r := range append([][]string{header}, rows...) {
		var b strings.Builder
		for i, cell := range r {
			if i == len(r)-1 {
				b.WriteString(cell)
				break
			}
			fmt.Fprintf(&b, "%-*s  ", widths[i], cell)
		}
		fmt.Fprintln(c.stdout, strings.TrimRight(b.String(), " "))
	}
}

// listing describes a list command: it takes --json only, loads its views
// from the store, and prints them as JSON or as a table.
type listing[V any] struct {
	name   string
	header []string
	empty  string // printed instead of an empty table, when set
	load   func(ctx context.Context, st store.Store, cfg *config.Config) ([]V, error)
	row    func(V) []string
}

func runListing[V any](ctx context.Context, c *cli, args []string, l listing[V]) error {
	fs := c.flags(l.name)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	st, cfg, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	views, err := l.load(ctx, st, cfg)
	switch {
	case err != nil:
		return err
	case *asJSON:
		return c.printJSON(views)
	case len(views) == 0 && l.empty != "":
		fmt.Fprintln(c.stdout, l.empty)
		return nil
	}
	rows := make([][]string, 0, len(views))
	for _, v := range views {
		rows = append(rows, l.row(v))
	}
	c.table(l.header, rows)
	return nil
}

// notFound turns a store.ErrNotFound into a message naming what was missing.
func notFound(err error, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%s does not exist", what)
	}
	return err
}

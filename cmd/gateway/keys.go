package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/internal/server"
	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/store"
)

func (c *cli) keys(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("keys needs a subcommand: list, rotate")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "list":
		return c.keysList(ctx, rest)
	case "rotate":
		return c.keysRotate(ctx, rest)
	default:
		return usagef("unknown keys subcommand %q", sub)
	}
}

// keyView is a signing key version as the CLI prints it.
type keyView struct {
	ID             int64  `json:"id"`
	State          string `json:"state"`
	Published      bool   `json:"published"`
	ActivatesAt    string `json:"activates_at"`
	PublishedUntil string `json:"published_until,omitempty"`
	NotBefore      string `json:"not_before"`
	NotAfter       string `json:"not_after"`
	Fingerprint    string `json:"sha256_fingerprint"`
}

func viewKey(s keys.Status) keyView {
	v := keyView{ID: s.ID, State: string(s.State), Published: s.Published, ActivatesAt: rfc3339(s.ActivatesAt),
		NotBefore: rfc3339(s.Cert.NotBefore), NotAfter: rfc3339(s.Cert.NotAfter), Fingerprint: keys.Fingerprint(s.Cert)}
	if s.State == keys.StateRetired {
		v.PublishedUntil = rfc3339(s.Until)
	}
	return v
}

// stateText is the state with, for a retired key, how long it stays in
// the metadata.
func (v keyView) stateText() string {
	switch {
	case v.State != string(keys.StateRetired):
		return v.State
	case v.Published:
		return v.State + " (published until " + v.PublishedUntil + ")"
	default:
		return v.State + " (no longer published)"
	}
}

func (c *cli) keysList(ctx context.Context, args []string) error {
	return runListing(ctx, c, args, listing[keyView]{
		name:   "keys list",
		header: []string{"ID", "ACTIVATES", "NOT BEFORE", "NOT AFTER", "SHA-256", "STATE"},
		empty:  "No signing key in the store yet: `gateway serve` (or `gateway keys rotate`) puts the data dir's key there, generating it if need be.",
		load: func(ctx context.Context, st store.Store, cfg *config.Config) ([]keyView, error) {
			statuses, err := server.SigningKeyStatuses(ctx, st, time.Now(), cfg.SAML.KeyRollover.D())
			views := make([]keyView, 0, len(statuses))
			for _, s := range statuses {
				views = append(views, viewKey(s))
			}
			return views, err
		},
		row: func(v keyView) []string {
			return []string{strconv.FormatInt(v.ID, 10), v.ActivatesAt, v.NotBefore, v.NotAfter, v.Fingerprint, v.stateText()}
		},
	})
}

// keysRotate adds a signing key that activates after saml.key_rollover,
// or at once with --now.
func (c *cli) keysRotate(ctx context.Context, args []string) error {
	fs := c.flags("keys rotate")
	asJSON := fs.Bool("json", false, "print JSON")
	now := fs.Bool("now", false, "activate the new key at once (for a compromised key: apps that have not refreshed our metadata will reject its signatures)")
	force := fs.Bool("force", false, "replace a next key that is already pending")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	st, cfg, m, err := c.openStoreAndMaster(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	at := time.Now()
	if _, err := server.EnsureSigningKey(ctx, st, m, cfg.DataDir, server.CertName(cfg), at); err != nil {
		return err
	}
	r, err := server.RotateSigningKey(ctx, st, m, server.Rotation{CommonName: server.CertName(cfg),
		Rollover: cfg.SAML.KeyRollover.D(), Immediate: *now, Force: *force, Now: at, Actor: "cli"})
	if errors.Is(err, server.ErrRotationPending) {
		return fmt.Errorf("%w; it is published already. Run again with --force to replace it", err)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return c.printJSON(map[string]any{"id": r.Key.ID, "activates_at": rfc3339(r.Key.ActivatesAt),
			"sha256_fingerprint": keys.Fingerprint(r.Cert), "immediate": *now, "replaced": idsOrEmpty(r.Replaced),
			"pruned": idsOrEmpty(r.Pruned)})
	}
	fmt.Fprintf(c.stdout, "Created signing key %d (SHA-256 %s).\n", r.Key.ID, keys.Fingerprint(r.Cert))
	if *now {
		fmt.Fprintln(c.stdout, "It signs now (on every node within a minute). Apps that have not fetched the metadata since will reject assertions until they do.")
	} else {
		fmt.Fprintf(c.stdout, "It is published in the metadata now and signs from %s (saml.key_rollover %s).\n",
			rfc3339(r.Key.ActivatesAt), cfg.SAML.KeyRollover)
	}
	return nil
}

func idsOrEmpty(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

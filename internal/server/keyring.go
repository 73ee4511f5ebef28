package server

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/store"
)

// Defaults of KeyringOptions, and the bounds of one load.
const (
	keyringMaxAge     = time.Minute
	keyringRetryDelay = 5 * time.Second
	keyringLoadLimit  = 10 * time.Second
)

// KeyringOptions tunes a Keyring.
type KeyringOptions struct {
	// Rollover is saml.key_rollover: how long a retired key stays published.
	Rollover time.Duration
	// MaxAge is how long a load is trusted before the store is read again;
	// zero means one minute, so a rotation made on one node (or by the CLI)
	// reaches every node within a minute.
	MaxAge time.Duration
	Now    func() time.Time
	Logger *slog.Logger
}

// Keyring is the keys.Source of a node: the signing key versions in the
// store, opened with the master secret, and the rollover policy of package
// keys applied to them at each moment.
//
// It caches the versions it loaded and the Set they give. It reads the
// store again when the load is older than MaxAge or when the Set's next
// change (an activation, or a retired key dropped from metadata) is due.
// While one caller reloads, others get the cached Set; if the store cannot
// be read, the cached versions still go through their transitions on time.
type Keyring struct {
	store  store.SigningKeys
	master *keys.Master
	opts   KeyringOptions

	mu       sync.Mutex
	versions []keys.Version
	loaded   bool
	loading  bool
	loadedAt time.Time
	retryAt  time.Time
	set      keys.Set
	changeAt time.Time // when set must be worked out again; zero: never
}

// NewKeyring returns a Keyring over st. Nothing is read until the first
// call to SigningKeys or Reload.
func NewKeyring(st store.SigningKeys, m *keys.Master, o KeyringOptions) *Keyring {
	if o.MaxAge <= 0 {
		o.MaxAge = keyringMaxAge
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Keyring{store: st, master: m, opts: o}
}

// SigningKeys returns the Set at this moment.
func (k *Keyring) SigningKeys(ctx context.Context) (keys.Set, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.opts.Now()
	if !k.loaded {
		if err := k.reloadLocked(ctx, now); err != nil {
			return keys.Set{}, err
		}
	} else if k.due(now) {
		k.reloadShared(ctx, now)
	}
	if !k.changeAt.IsZero() && !now.Before(k.changeAt) {
		if err := k.compute(now); err != nil {
			return keys.Set{}, err
		}
	}
	return k.set, nil
}

// Reload reads the store now, so that a rotation made by this process is
// in effect at once.
func (k *Keyring) Reload(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.reloadLocked(ctx, k.opts.Now())
}

// due reports whether the store should be read again.
func (k *Keyring) due(now time.Time) bool {
	stale := !now.Before(k.loadedAt.Add(k.opts.MaxAge)) || (!k.changeAt.IsZero() && !now.Before(k.changeAt))
	return stale && !k.loading && !now.Before(k.retryAt)
}

// reloadShared reloads without holding the lock over the store's answer,
// so that other callers meanwhile get the cached Set. A failure keeps the
// cached versions and is retried after a short delay.
func (k *Keyring) reloadShared(ctx context.Context, now time.Time) {
	k.loading = true
	prev := k.versions
	k.mu.Unlock()
	vs, err := k.load(ctx, prev)
	k.mu.Lock()
	k.loading = false
	if err == nil {
		err = k.use(vs, k.opts.Now())
	}
	if err != nil {
		k.retryAt = now.Add(keyringRetryDelay)
		k.opts.Logger.Warn("signing keys: reload failed; keeping the keys loaded before", "err", err)
	}
}

func (k *Keyring) reloadLocked(ctx context.Context, now time.Time) error {
	vs, err := k.load(ctx, k.versions)
	if err != nil {
		return err
	}
	return k.use(vs, now)
}

// use makes vs the cached versions, if they give a Set at now.
func (k *Keyring) use(vs []keys.Version, now time.Time) error {
	old := k.versions
	k.versions = vs
	if err := k.compute(now); err != nil {
		k.versions = old
		return err
	}
	k.loaded, k.loadedAt = true, now
	return nil
}

func (k *Keyring) compute(now time.Time) error {
	set, err := keys.SetAt(k.versions, now, k.opts.Rollover)
	if err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	k.set, k.changeAt = set, keys.NextChange(k.versions, now, k.opts.Rollover)
	return nil
}

// load reads and opens every version, reusing those of prev that have not
// changed, so that a reload costs one query.
func (k *Keyring) load(ctx context.Context, prev []keys.Version) ([]keys.Version, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), keyringLoadLimit)
	defer cancel()
	rows, err := k.store.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	known := map[int64]keys.Version{}
	for _, v := range prev {
		known[v.ID] = v
	}
	vs := make([]keys.Version, 0, len(rows))
	for _, r := range rows {
		if v, ok := known[r.ID]; ok && bytes.Equal(v.Cert.Raw, r.CertDER) && v.ActivatesAt.Equal(r.ActivatesAt) {
			vs = append(vs, v)
			continue
		}
		s, err := keys.OpenSigning(k.master, r.CertDER, r.KeyCiphertext)
		if err != nil {
			return nil, fmt.Errorf("signing key %d: %w (is master_secret the same on every node?)", r.ID, err)
		}
		vs = append(vs, keys.Version{ID: r.ID, Cert: s.Cert, Key: s.Key, ActivatesAt: r.ActivatesAt})
	}
	return vs, nil
}

var _ keys.Source = (*Keyring)(nil)

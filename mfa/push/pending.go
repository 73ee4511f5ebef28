package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/portcullis/portcullis/session"
)

// initClaimTTL guards the creation of a user's pending index; see addPending.
const initClaimTTL = 5 * time.Second

// pendingEntry is one challenge in a user's pending index, stored under
// "push:pending:USER": the list a device's poll reads, and what the
// pending limit counts.
type pendingEntry struct {
	ID      string    `json:"id"`
	Expires time.Time `json:"x"`
}

func pendingKey(userID int64) string  { return "push:pending:" + strconv.FormatInt(userID, 10) }
func pendingInit(userID int64) string { return "push:pending-init:" + strconv.FormatInt(userID, 10) }

// index is a user's pending index as read: its entries and version (0:
// none). clean is false when the reader dropped entries, so the entries no
// longer match what is stored.
type index struct {
	entries []pendingEntry
	version int64
	clean   bool
}

// pending reads the user's index and returns its live challenges, oldest
// first.
func (f *Factor) pending(r *http.Request, userID int64) ([]*challenge, error) {
	live, _, err := f.scan(r, userID)
	return live, err
}

// scan reads the user's index and its challenges, expiring (and auditing)
// those past their time and dropping those answered; it writes the index
// back (best effort) when it dropped anything.
func (f *Factor) scan(r *http.Request, userID int64) ([]*challenge, index, error) {
	ctx := r.Context()
	entries, version, err := f.readPending(ctx, userID)
	idx := index{entries: entries, version: version, clean: true}
	if err != nil || len(entries) == 0 {
		return nil, idx, err
	}
	var live []*challenge
	for _, e := range entries {
		c, _, err := f.load(ctx, e.ID)
		switch {
		case errors.Is(err, errGone):
			continue
		case err != nil:
			return nil, idx, err
		case f.expired(c):
			f.expire(r, c)
			continue
		case c.State != StatePending:
			continue
		}
		live = append(live, c)
	}
	if len(live) < len(entries) {
		idx.clean = false
		keep := make([]pendingEntry, len(live))
		for i, c := range live {
			keep[i] = pendingEntry{ID: c.ID, Expires: c.Expires}
		}
		// Best effort: on a conflict the next reader prunes again.
		_ = f.writePending(ctx, userID, keep, version)
	}
	slices.SortFunc(live, func(a, b *challenge) int { return a.Created.Compare(b.Created) })
	return live, idx, nil
}

// readPending returns the user's pending index and its version (0: none).
func (f *Factor) readPending(ctx context.Context, userID int64) ([]pendingEntry, int64, error) {
	data, version, err := f.core.Replay.Get(ctx, pendingKey(userID))
	if errors.Is(err, session.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	var entries []pendingEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, 0, fmt.Errorf("push: pending index of user %d: %w", userID, err)
	}
	return entries, version, nil
}

// writePending writes the index: Put when version is 0 (a new index),
// Replace at version otherwise. It lives as long as its latest entry plus
// recordGrace, which is always longer than initClaimTTL.
func (f *Factor) writePending(ctx context.Context, userID int64, entries []pendingEntry, version int64) error {
	ttl := recordGrace
	for _, e := range entries {
		ttl = max(ttl, e.Expires.Sub(f.core.NowTime())+recordGrace)
	}
	data, _ := json.Marshal(entries)
	if version == 0 {
		return f.core.Replay.Put(ctx, pendingKey(userID), 0, data, ttl)
	}
	return f.core.Replay.Replace(ctx, pendingKey(userID), 0, data, ttl, version)
}

// addPending adds c to its user's index unless the user already has
// MaxPending live challenges (errBusy). The check and the write are one
// versioned Replace, so nodes racing for the last slot cannot both win. A
// new index has no version to check against, so only the node that claims
// pendingInit creates it; the others wait for it to appear. live and idx
// are a scan the caller just made.
func (f *Factor) addPending(r *http.Request, c *challenge, live []*challenge, idx index) error {
	ctx := r.Context()
	for try := range casTries {
		if try > 0 {
			var err error
			if live, idx, err = f.scan(r, c.UserID); err != nil {
				return err
			}
		}
		if len(live) >= f.opts.MaxPending {
			return errBusy
		}
		if !idx.clean {
			// The scan dropped entries; read what it wrote back.
			var err error
			if idx.entries, idx.version, err = f.readPending(ctx, c.UserID); err != nil {
				return err
			}
			if len(idx.entries) > len(live) {
				continue // its write-back lost a race; go again
			}
		}
		entries, version := idx.entries, idx.version
		if version == 0 {
			won, err := f.core.Replay.Claim(ctx, pendingInit(c.UserID), initClaimTTL)
			if err != nil {
				return err
			}
			if !won {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			// A node that stalled past an old claim may have made it
			// meanwhile.
			if _, v, err := f.readPending(ctx, c.UserID); err != nil || v != 0 {
				if err != nil {
					return err
				}
				continue
			}
		}
		entries = append(entries, pendingEntry{ID: c.ID, Expires: c.Expires})
		err := f.writePending(ctx, c.UserID, entries, version)
		if err == nil {
			return nil
		}
		if !errors.Is(err, session.ErrConflict) && !errors.Is(err, session.ErrNotFound) {
			return err
		}
	}
	return errContended
}

// removePending takes a challenge out of its user's index (answered or
// expired). A failure is logged: a stale entry is dropped by the next reader.
func (f *Factor) removePending(ctx context.Context, userID int64, id string) {
	for range casTries {
		entries, version, err := f.readPending(ctx, userID)
		if err != nil || version == 0 {
			if err != nil {
				f.logger().WarnContext(ctx, "push: pending index not updated", "err", err)
			}
			return
		}
		i := slices.IndexFunc(entries, func(e pendingEntry) bool { return e.ID == id })
		if i < 0 {
			return
		}
		err = f.writePending(ctx, userID, slices.Delete(entries, i, i+1), version)
		if !errors.Is(err, session.ErrConflict) {
			return
		}
	}
}

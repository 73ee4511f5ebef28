// Upstream IdPs in the catalogue: the IdPs whose users sign in through our
// SP (package sp), added, removed and refreshed under the same rules as
// apps, by the CLI (`gateway idps`) and by the server's scheduled metadata
// refresh.
//
// Decisions:
//   - An IdP's metadata is refused once its validUntil has passed, when it
//     is added and when it is refreshed; the stored document stays.
//   - A refresh that names another entity ID is refused: that is another
//     IdP, not a new version of this one. The operator removes and adds.
//   - Certificate rollover: a refreshed document with new signing
//     certificates simply replaces the stored metadata, and the SP reads
//     the stored metadata each time it uses an IdP. Nothing restarts, so
//     this is rollover without downtime as long as the IdP publishes the
//     new certificate (usually beside the old one) at least one refresh
//     period before it signs with it. An IdP that switches keys without
//     publishing first breaks logins until the next refresh, or until an
//     operator runs `gateway idps refresh`.
//   - Unchanged bytes are not written, and the write re-reads the IdP in
//     its transaction, so several nodes refreshing at once make at most one
//     write and one idp.refreshed event per change.

package catalog

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/sp"
	"github.com/portcullis/portcullis/store"
)

// IdPResult is the outcome of refreshing one upstream IdP's metadata.
type IdPResult struct {
	IdP     string
	URL     string
	Changed bool
	Err     error
}

// AddIdP reads the metadata at source (a file or an http(s) URL), checks
// it, and creates the IdP named name with settings s and its idp.added
// event. A name or entity ID already in use is an error and nothing is
// written.
func (c *Catalog) AddIdP(ctx context.Context, name, source string, s sp.Settings) (store.IdP, sp.Upstream, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return store.IdP{}, sp.Upstream{}, errors.New("an IdP needs a name")
	}
	if err := s.Validate(); err != nil {
		return store.IdP{}, sp.Upstream{}, err
	}
	doc, err := c.Fetcher.Fetch(ctx, source)
	if err != nil {
		return store.IdP{}, sp.Upstream{}, err
	}
	u, err := checkedIdPMetadata(doc, c.now())
	if err != nil {
		return store.IdP{}, u, err
	}
	settings, err := json.Marshal(s)
	if err != nil {
		return store.IdP{}, u, err
	}
	p := store.IdP{Name: name, EntityID: u.EntityID, Metadata: string(doc), Settings: settings}
	if IsURL(source) {
		p.MetadataURL = source
	}
	err = c.Store.InTx(ctx, func(tx store.Tx) error { return c.createIdP(ctx, tx, &p, u, s) })
	if errors.Is(err, store.ErrConflict) { // a concurrent add won
		return store.IdP{}, u, fmt.Errorf("an IdP named %q or with entity ID %s already exists", p.Name, p.EntityID)
	}
	return p, u, err
}

// createIdP writes p and its idp.added event in tx, after refusing a name
// or entity ID in use.
func (c *Catalog) createIdP(ctx context.Context, tx store.Tx, p *store.IdP, u sp.Upstream, s sp.Settings) error {
	idps, err := tx.ListIdPs(ctx)
	if err != nil {
		return err
	}
	if err := Taken("IdP", p.Name, p.EntityID, idps, func(o store.IdP) (string, string) { return o.Name, o.EntityID }); err != nil {
		return err
	}
	if err := tx.CreateIdP(ctx, p); err != nil {
		return err
	}
	return tx.Record(ctx, &audit.Event{Type: sp.EventIdPAdded, Actor: c.Actor, Subject: p.Name, Outcome: audit.Success,
		Details: map[string]string{"entity_id": p.EntityID, "metadata": idpSource(*p), "link": s.Link,
			"create_users": fmt.Sprint(s.CreateUsers), "trust_mfa": fmt.Sprint(s.TrustMFA),
			"certificates": strings.Join(IdPFingerprints(u), " ")}})
}

// SetIdPSettings changes the settings of the IdP named name with change,
// and writes them with an idp.updated event, in one transaction. Settings
// that change does not touch keep their values; the metadata and the
// links of users stay. Invalid settings are an error and nothing is
// written.
func (c *Catalog) SetIdPSettings(ctx context.Context, name string, change func(*sp.Settings)) (store.IdP, sp.Settings, error) {
	var p store.IdP
	var s sp.Settings
	err := c.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if p, err = tx.IdPByName(ctx, name); err != nil {
			return err
		}
		if s, err = sp.ParseSettings(p.Settings); err != nil {
			return err
		}
		change(&s)
		if err := s.Validate(); err != nil {
			return err
		}
		if p.Settings, err = json.Marshal(s); err != nil {
			return err
		}
		if err := tx.UpdateIdP(ctx, p); err != nil {
			return err
		}
		return tx.Record(ctx, &audit.Event{Type: sp.EventIdPUpdated, Actor: c.Actor, Subject: p.Name,
			Outcome: audit.Success, Details: settingsDetails(s)})
	})
	if errors.Is(err, store.ErrNotFound) {
		return p, s, fmt.Errorf("IdP %q does not exist", name)
	}
	return p, s, err
}

// settingsDetails is s as an audit event's details.
func settingsDetails(s sp.Settings) map[string]string {
	return map[string]string{"link": s.Link, "link_attribute": s.LinkAttribute,
		"create_users": fmt.Sprint(s.CreateUsers), "groups_attribute": s.GroupsAttribute,
		"trust_mfa": fmt.Sprint(s.TrustMFA), "allow_unsolicited": fmt.Sprint(s.AllowUnsolicited), "want": s.Want}
}

// RemoveIdP deletes the IdP named name with its idp.removed event.
func (c *Catalog) RemoveIdP(ctx context.Context, name string) (store.IdP, error) {
	var p store.IdP
	err := c.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if p, err = tx.IdPByName(ctx, name); err != nil {
			return err
		}
		if err := tx.DeleteIdP(ctx, p.ID); err != nil {
			return err
		}
		return tx.Record(ctx, &audit.Event{Type: sp.EventIdPRemoved, Actor: c.Actor, Subject: p.Name,
			Outcome: audit.Success, Details: map[string]string{"entity_id": p.EntityID}})
	})
	if errors.Is(err, store.ErrNotFound) {
		return p, fmt.Errorf("IdP %q does not exist", name)
	}
	return p, err
}

// RefreshIdP fetches the metadata of the IdP named name from its URL now.
// An unknown IdP or one added from a file is an error with a zero result.
func (c *Catalog) RefreshIdP(ctx context.Context, name string) (IdPResult, error) {
	p, err := c.Store.IdPByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return IdPResult{}, fmt.Errorf("IdP %q does not exist", name)
	}
	if err != nil {
		return IdPResult{}, err
	}
	if p.MetadataURL == "" {
		return IdPResult{}, fmt.Errorf("IdP %q has metadata from a file, not a URL: remove it and add it again to change it", p.Name)
	}
	r := c.refreshIdP(ctx, p)
	return r, r.Err
}

// RefreshAllIdPs refreshes every IdP whose metadata came from a URL, one
// after the other, and reports each. A failure keeps that IdP's metadata.
func (c *Catalog) RefreshAllIdPs(ctx context.Context) ([]IdPResult, error) {
	idps, err := c.Store.ListIdPs(ctx)
	if err != nil {
		return nil, err
	}
	var out []IdPResult
	for _, p := range idps {
		if p.MetadataURL != "" {
			out = append(out, c.refreshIdP(ctx, p))
		}
	}
	return out, nil
}

// refreshIdP fetches p's metadata and, when it differs, checks it and
// writes it with its idp.refreshed event.
func (c *Catalog) refreshIdP(ctx context.Context, p store.IdP) IdPResult {
	r := IdPResult{IdP: p.Name, URL: p.MetadataURL}
	doc, err := c.Fetcher.Fetch(ctx, p.MetadataURL)
	if err != nil || string(doc) == p.Metadata {
		r.Err = err
		return r
	}
	u, err := checkedIdPMetadata(doc, c.now())
	if err != nil {
		r.Err = err
		return r
	}
	if u.EntityID != p.EntityID {
		r.Err = fmt.Errorf("metadata now names entity ID %s instead of %s: refusing it (remove the IdP and add it again if the change is meant)",
			u.EntityID, p.EntityID)
		return r
	}
	r.Err = c.Store.InTx(ctx, func(tx store.Tx) error {
		cur, err := tx.IdP(ctx, p.ID)
		if err != nil || cur.Metadata == string(doc) { // removed, or another node was first
			return err
		}
		cur.Metadata = string(doc)
		if err := tx.UpdateIdP(ctx, cur); err != nil {
			return err
		}
		r.Changed = true
		return tx.Record(ctx, &audit.Event{Type: sp.EventIdPRefreshed, Actor: c.Actor, Subject: p.Name, Outcome: audit.Success,
			Details: map[string]string{"url": p.MetadataURL, "certificates": strings.Join(IdPFingerprints(u), " ")}})
	})
	if r.Err != nil {
		r.Changed = false
	}
	return r
}

// checkedIdPMetadata parses an IdP's metadata and refuses it once expired.
func checkedIdPMetadata(doc []byte, now time.Time) (sp.Upstream, error) {
	u, err := sp.ParseMetadata(doc)
	if err == nil && !u.ValidUntil.IsZero() && u.ValidUntil.Before(now) {
		err = fmt.Errorf("metadata of %s expired at %s (validUntil)", u.EntityID, u.ValidUntil.UTC().Format(time.RFC3339))
	}
	return u, err
}

// Fingerprint is the SHA-256 fingerprint (hex) of a certificate.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// IdPFingerprints lists the fingerprints of u's signing certificates,
// sorted, for audit details and for comparing two documents.
func IdPFingerprints(u sp.Upstream) []string {
	out := make([]string, 0, len(u.Certs))
	for _, c := range u.Certs {
		out = append(out, Fingerprint(c))
	}
	slices.Sort(out)
	return out
}

// idpSource is where an IdP's metadata came from, for people.
func idpSource(p store.IdP) string {
	if p.MetadataURL != "" {
		return p.MetadataURL
	}
	return "file"
}

package catalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/store"
)

// Result is the outcome of refreshing one app's metadata.
type Result struct {
	App     string
	URL     string
	Changed bool
	Err     error
}

// Refresh fetches the metadata of the app named name from its URL now.
func (c *Catalog) Refresh(ctx context.Context, name string) (Result, error) {
	a, err := c.Store.AppByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return Result{}, fmt.Errorf("app %q does not exist", name)
	}
	if err != nil {
		return Result{}, err
	}
	if a.MetadataURL == "" {
		return Result{}, fmt.Errorf("app %q has metadata from a file, not a URL: remove it and add it again to change it", a.Name)
	}
	r := c.refresh(ctx, a)
	return r, r.Err
}

// RefreshAll refreshes every app whose metadata came from a URL, one after
// the other, and reports each. A failure keeps that app's metadata.
func (c *Catalog) RefreshAll(ctx context.Context) ([]Result, error) {
	apps, err := c.Store.ListApps(ctx)
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, a := range apps {
		if a.MetadataURL != "" && a.Kind == store.AppSAML {
			out = append(out, c.refresh(ctx, a))
		}
	}
	return out, nil
}

// refresh fetches a's metadata and, when it differs, checks it and writes
// it with its app.metadata_refreshed event.
func (c *Catalog) refresh(ctx context.Context, a store.App) Result {
	r := Result{App: a.Name, URL: a.MetadataURL}
	doc, err := c.Fetcher.Fetch(ctx, a.MetadataURL)
	if err != nil || string(doc) == a.Metadata {
		r.Err = err
		return r
	}
	ed, err := ParseMetadata(doc, c.now())
	if err != nil {
		r.Err = err
		return r
	}
	if ed.EntityID != a.EntityID {
		r.Err = fmt.Errorf("metadata now names entity ID %s instead of %s: refusing it (remove the app and add it again if the change is meant)",
			ed.EntityID, a.EntityID)
		return r
	}
	r.Err = c.Store.InTx(ctx, func(tx store.Tx) error {
		cur, err := tx.App(ctx, a.ID)
		if err != nil || cur.Metadata == string(doc) { // removed, or another node was first
			return err
		}
		details := changes(cur.Metadata, string(doc))
		cur.Metadata = string(doc)
		if err := tx.UpdateApp(ctx, cur); err != nil {
			return err
		}
		r.Changed = true
		details["url"] = a.MetadataURL
		return tx.Record(ctx, &audit.Event{Type: EventMetadataRefreshed, Actor: c.Actor, Subject: a.Name,
			App: a.Name, Outcome: audit.Success, Details: details})
	})
	if r.Err != nil {
		r.Changed = false
	}
	return r
}

// changes says what differs between two metadata documents that matters
// to the IdP: the ACS URLs and the SP's certificates.
func changes(old, doc string) map[string]string {
	out := map[string]string{"acs": "unchanged", "certificates": "unchanged"}
	before, err1 := decode([]byte(old))
	after, err2 := decode([]byte(doc))
	if err1 != nil || err2 != nil {
		return out
	}
	if !slices.Equal(ACSURLs(before), ACSURLs(after)) {
		out["acs"] = strings.Join(ACSURLs(after), " ")
	}
	if !slices.Equal(CertFingerprints(before), CertFingerprints(after)) {
		out["certificates"] = strings.Join(CertFingerprints(after), " ")
	}
	return out
}

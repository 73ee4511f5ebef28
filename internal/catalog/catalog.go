// Package catalog is the SAML app catalogue as operators change it: it reads
// service provider metadata from a file or an http(s) URL, checks it, and
// adds, removes and refreshes apps in the store, each change in one
// transaction with its audit event. The CLI (`gateway apps`) and the
// server's scheduled metadata refresh share it, so both apply the same
// rules. Serving the apps is package idp's.
//
// Decisions:
//   - An app is usable only by members of its groups, or through a shared
//     folder; AllGroups ("*") in Groups means every user (the rule package
//     idp applies). With neither, nobody can use it: the CLI warns.
//   - The MFA requirement defaults to optional: the app gets the session's
//     factors as they are, and stepping up is one flag (--mfa required).
//   - Metadata may come over plain http (the CLI warns): the operator
//     chooses the URL, and some SPs only serve it so inside a network.
//   - Metadata is stored as fetched, byte for byte; a refresh writes only
//     when the bytes differ, and refuses a document that changes the entity
//     ID or fails the checks of ParseMetadata, keeping the old one.
//
// Layer 3: cmd/gateway and internal/server import it.
package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/store"
)

// Audit event types of the catalogue.
const (
	EventAppCreated        = "app.created"
	EventAppDeleted        = "app.deleted"
	EventMetadataRefreshed = "app.metadata_refreshed"
)

// AllGroups in an app's groups lets every user use it.
const AllGroups = "*"

// MFA requirements of an app.
const (
	MFARequired = "required"
	MFAOptional = "optional"
	MFAOff      = "off"
)

// DefaultMFA is the requirement of an app added without one.
const DefaultMFA = MFAOptional

// Catalog changes the apps in Store.
type Catalog struct {
	Store   store.Store
	Fetcher Fetcher
	// Actor names who acts in audit events: "cli", "scheduler".
	Actor string
	Now   func() time.Time
}

// NewApp is an app to add.
type NewApp struct {
	Name     string
	Source   string // metadata file or http(s) URL
	MFA      string // empty: DefaultMFA
	Groups   []string
	Settings idp.AppSettings
}

// Check reports what is wrong with n without reading anything: a name, a
// source, a known MFA requirement, valid settings.
func (n NewApp) Check() error {
	var problems []string
	if strings.TrimSpace(n.Name) == "" {
		problems = append(problems, "an app needs a name")
	}
	if strings.TrimSpace(n.Source) == "" {
		problems = append(problems, "an app needs a metadata file or URL")
	}
	switch n.MFA {
	case "", MFARequired, MFAOptional, MFAOff:
	default:
		problems = append(problems, fmt.Sprintf("mfa %q is not required, optional or off", n.MFA))
	}
	for _, g := range n.Groups {
		if strings.TrimSpace(g) == "" {
			problems = append(problems, "a group name is empty")
		}
	}
	if err := n.Settings.Validate(); err != nil {
		problems = append(problems, strings.TrimPrefix(err.Error(), "idp: app settings: "))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func (c *Catalog) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

// Add reads n's metadata, checks it, and creates the app with its
// app.created event. A name or entity ID already in use, or a group that
// does not exist, is an error and nothing is written.
func (c *Catalog) Add(ctx context.Context, n NewApp) (store.App, error) {
	if err := n.Check(); err != nil {
		return store.App{}, err
	}
	doc, err := c.Fetcher.Fetch(ctx, n.Source)
	if err != nil {
		return store.App{}, err
	}
	ed, err := ParseMetadata(doc, c.now())
	if err != nil {
		return store.App{}, err
	}
	settings, err := json.Marshal(n.Settings)
	if err != nil {
		return store.App{}, err
	}
	a := store.App{Name: strings.TrimSpace(n.Name), Kind: store.AppSAML, EntityID: ed.EntityID,
		Metadata: string(doc), MFA: n.MFA, Groups: uniqueGroups(n.Groups), Settings: settings}
	if a.MFA == "" {
		a.MFA = DefaultMFA
	}
	if IsURL(n.Source) {
		a.MetadataURL = n.Source
	}
	err = c.Store.InTx(ctx, func(tx store.Tx) error {
		if err := checkNew(ctx, tx, a); err != nil {
			return err
		}
		if err := tx.CreateApp(ctx, &a); err != nil {
			return err
		}
		return tx.Record(ctx, &audit.Event{Type: EventAppCreated, Actor: c.Actor, Subject: a.Name, App: a.Name,
			Outcome: audit.Success, Details: map[string]string{"entity_id": a.EntityID, "metadata": source(a),
				"mfa": a.MFA, "groups": strings.Join(a.Groups, ",")}})
	})
	if errors.Is(err, store.ErrConflict) { // a concurrent add won
		return store.App{}, fmt.Errorf("an app named %q or with entity ID %s already exists", a.Name, a.EntityID)
	}
	return a, err
}

// checkNew refuses a taken name or entity ID and unknown groups.
func checkNew(ctx context.Context, tx store.Tx, a store.App) error {
	apps, err := tx.ListApps(ctx)
	if err != nil {
		return err
	}
	if err := Taken("app", a.Name, a.EntityID, apps, func(o store.App) (string, string) { return o.Name, o.EntityID }); err != nil {
		return err
	}
	for _, g := range a.Groups {
		if g == AllGroups {
			continue
		}
		if _, err := tx.GroupByName(ctx, g); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("group %q does not exist (create it with: gateway groups add %s)", g, g)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// Taken refuses a name (ignoring case, as the store compares names) or
// an entity ID that a record of list already holds, with an error for
// the operator; kind names the records ("app", "IdP"). The store enforces
// both too; this says which one and who holds it.
func Taken[T any](kind, name, entityID string, list []T, ids func(T) (name, entityID string)) error {
	for _, o := range list {
		if n, _ := ids(o); strings.EqualFold(strings.TrimSpace(n), strings.TrimSpace(name)) {
			return fmt.Errorf("%s %s named %q already exists", article(kind), kind, name)
		}
	}
	for _, o := range list {
		if n, e := ids(o); e == entityID {
			return fmt.Errorf("%s %q already has entity ID %s", kind, n, entityID)
		}
	}
	return nil
}

// article is the indefinite article before kind.
func article(kind string) string {
	if strings.ContainsRune("aeiouAEIOU", rune(kind[0])) {
		return "an"
	}
	return "a"
}

// Remove deletes the app named name with its app.deleted event.
func (c *Catalog) Remove(ctx context.Context, name string) (store.App, error) {
	var a store.App
	err := c.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if a, err = tx.AppByName(ctx, name); err != nil {
			return err
		}
		if err := tx.DeleteApp(ctx, a.ID); err != nil {
			return err
		}
		return tx.Record(ctx, &audit.Event{Type: EventAppDeleted, Actor: c.Actor, Subject: a.Name, App: a.Name,
			Outcome: audit.Success, Details: map[string]string{"entity_id": a.EntityID}})
	})
	if errors.Is(err, store.ErrNotFound) {
		return a, fmt.Errorf("app %q does not exist", name)
	}
	return a, err
}

// uniqueGroups is groups trimmed, without repeats, in the order given.
func uniqueGroups(groups []string) []string {
	var out []string
	for _, g := range groups {
		if g = strings.TrimSpace(g); !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// source is where an app's metadata came from, for people.
func source(a store.App) string {
	if a.MetadataURL != "" {
		return a.MetadataURL
	}
	return "file"
}

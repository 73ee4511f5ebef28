package main

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
	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/internal/catalog"
	"github.com/portcullis/portcullis/sp"
	"github.com/portcullis/portcullis/store"
)

func (c *cli) idps(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("idps needs a subcommand: add, list, remove, refresh")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "add":
		return c.idpsAdd(ctx, rest)
	case "list":
		return c.idpsList(ctx, rest)
	case "remove":
		return c.idpsRemove(ctx, rest)
	case "refresh":
		return c.idpsRefresh(ctx, rest)
	default:
		return usagef("unknown idps subcommand %q", sub)
	}
}

// idpView is an upstream IdP as the CLI prints it.
type idpView struct {
	ID             int64       `json:"id"`
	Name           string      `json:"name"`
	EntityID       string      `json:"entity_id"`
	SSO            []string    `json:"sso_urls"`
	Certificates   []certView  `json:"certificates"`
	Settings       sp.Settings `json:"settings"`
	MetadataSource string      `json:"metadata_source"` // the URL, or "file"
	UpdatedAt      string      `json:"updated_at"`
}

// certView is one signing certificate of an upstream IdP.
type certView struct {
	SHA256   string `json:"sha256"`
	NotAfter string `json:"not_after"`
}

func viewIdP(p store.IdP) idpView {
	v := idpView{ID: p.ID, Name: p.Name, EntityID: p.EntityID, SSO: []string{}, Certificates: []certView{},
		MetadataSource: p.MetadataURL, UpdatedAt: rfc3339(p.UpdatedAt)}
	if v.MetadataSource == "" {
		v.MetadataSource = "file"
	}
	v.Settings, _ = sp.ParseSettings(p.Settings) // checked when stored; defaults otherwise
	if u, err := sp.ParseMetadata([]byte(p.Metadata)); err == nil {
		for _, e := range u.SSO {
			if !slices.Contains(v.SSO, e.Location) {
				v.SSO = append(v.SSO, e.Location)
			}
		}
		for _, c := range u.Certs {
			v.Certificates = append(v.Certificates, certView{SHA256: fingerprint(c), NotAfter: rfc3339(c.NotAfter)})
		}
	}
	return v
}

func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// fingerprints lists the SHA-256 fingerprints of u's signing certificates,
// sorted, for audit details and for comparing two documents.
func fingerprints(u sp.Upstream) string {
	out := make([]string, 0, len(u.Certs))
	for _, c := range u.Certs {
		out = append(out, fingerprint(c))
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// idpFlags reads the flags of idps add.
type idpFlags struct {
	metadata string
	settings sp.Settings
}

func (c *cli) idpsAdd(ctx context.Context, args []string) error {
	fs := c.flags("idps add")
	asJSON := fs.Bool("json", false, "print JSON")
	var f idpFlags
	fs.StringVar(&f.metadata, "metadata", "", "the IdP's SAML metadata: a file or an http(s) URL")
	fs.StringVar(&f.settings.Link, "link", sp.LinkByEmail, "how an upstream user links to ours: email, nameid or attribute")
	fs.StringVar(&f.settings.LinkAttribute, "link-attribute", "", "the upstream attribute to link by (with --link attribute)")
	fs.BoolVar(&f.settings.CreateUsers, "create-users", false, "create users on their first login (just in time)")
	fs.StringVar(&f.settings.GroupsAttribute, "groups-attribute", "", "the upstream attribute whose values become group memberships")
	fs.BoolVar(&f.settings.TrustMFA, "trust-mfa", false, "let the upstream REFEDS MFA statement satisfy our MFA policy")
	fs.BoolVar(&f.settings.AllowUnsolicited, "allow-unsolicited", false, "accept IdP-initiated logins (responses we did not ask for)")
	fs.StringVar(&f.settings.Want, "want", sp.WantEither, "what the IdP must sign: response, assertion or either")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || strings.TrimSpace(pos[0]) == "" {
		return usagef("idps add needs one IdP name")
	}
	if f.metadata == "" {
		return usagef("idps add needs --metadata FILE|URL")
	}
	if err := f.settings.Validate(); err != nil {
		return usagef("idps add: %v", strings.TrimPrefix(err.Error(), "sp: idp settings: "))
	}
	st, _, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	p, u, err := addIdP(ctx, st, strings.TrimSpace(pos[0]), f.metadata, f.settings)
	if err != nil {
		return err
	}
	if strings.HasPrefix(strings.ToLower(p.MetadataURL), "http://") {
		fmt.Fprintf(c.stderr, "warning: IdP %s's metadata comes over plain http: whoever can change it on the way"+
			" can change which certificates we trust; prefer https\n", p.Name)
	}
	if *asJSON {
		return c.printJSON(viewIdP(p))
	}
	fmt.Fprintf(c.stdout, "Added IdP %s (entity ID %s, id %d).\n  SSO:   %s\n  link:  %s\n  certs: %d\n",
		p.Name, p.EntityID, p.ID, u.SSO[0].Location, f.settings.Link, len(u.Certs))
	return nil
}

// addIdP reads and checks the metadata at source and creates the IdP with
// its idp.added event. A name or entity ID already in use is an error and
// nothing is written.
func addIdP(ctx context.Context, st store.Store, name, source string, s sp.Settings) (store.IdP, sp.Upstream, error) {
	doc, err := catalog.Fetcher{}.Fetch(ctx, source)
	if err != nil {
		return store.IdP{}, sp.Upstream{}, err
	}
	u, err := checkedMetadata(doc, time.Now())
	if err != nil {
		return store.IdP{}, u, err
	}
	settings, err := json.Marshal(s)
	if err != nil {
		return store.IdP{}, u, err
	}
	p := store.IdP{Name: name, EntityID: u.EntityID, Metadata: string(doc), Settings: settings}
	if catalog.IsURL(source) {
		p.MetadataURL = source
	}
	err = st.InTx(ctx, func(tx store.Tx) error {
		idps, err := tx.ListIdPs(ctx)
		if err != nil {
			return err
		}
		if err := catalog.Taken("IdP", p.Name, p.EntityID, idps, func(o store.IdP) (string, string) { return o.Name, o.EntityID }); err != nil {
			return err
		}
		if err := tx.CreateIdP(ctx, &p); err != nil {
			return err
		}
		return tx.Record(ctx, &audit.Event{Type: sp.EventIdPAdded, Actor: "cli", Subject: p.Name, Outcome: audit.Success,
			Details: map[string]string{"entity_id": p.EntityID, "metadata": orFile(p.MetadataURL), "link": s.Link,
				"create_users": fmt.Sprint(s.CreateUsers), "trust_mfa": fmt.Sprint(s.TrustMFA), "certificates": fingerprints(u)}})
	})
	if errors.Is(err, store.ErrConflict) { // a concurrent add won
		return store.IdP{}, u, fmt.Errorf("an IdP named %q or with entity ID %s already exists", p.Name, p.EntityID)
	}
	return p, u, err
}

// checkedMetadata parses an IdP's metadata and refuses it once expired.
func checkedMetadata(doc []byte, now time.Time) (sp.Upstream, error) {
	u, err := sp.ParseMetadata(doc)
	if err == nil && !u.ValidUntil.IsZero() && u.ValidUntil.Before(now) {
		err = fmt.Errorf("metadata of %s expired at %s (validUntil)", u.EntityID, rfc3339(u.ValidUntil))
	}
	return u, err
}

func orFile(url string) string {
	if url == "" {
		return "file"
	}
	return url
}

func (c *cli) idpsList(ctx context.Context, args []string) error {
	return runListing(ctx, c, args, listing[idpView]{
		name:   "idps list",
		header: []string{"NAME", "ENTITY ID", "SSO", "LINK", "CREATE USERS", "CERTS UNTIL", "METADATA", "UPDATED"},
		load: func(ctx context.Context, st store.Store, _ *config.Config) ([]idpView, error) {
			idps, err := st.ListIdPs(ctx)
			views := make([]idpView, 0, len(idps))
			for _, p := range idps {
				views = append(views, viewIdP(p))
			}
			return views, err
		},
		row: func(v idpView) []string {
			until := make([]string, 0, len(v.Certificates))
			for _, c := range v.Certificates {
				until = append(until, c.NotAfter)
			}
			return []string{v.Name, v.EntityID, orDash(strings.Join(v.SSO, ",")), v.Settings.Link,
				fmt.Sprint(v.Settings.CreateUsers), orDash(strings.Join(until, ",")), v.MetadataSource, v.UpdatedAt}
		},
	})
}

func (c *cli) idpsRemove(ctx context.Context, args []string) error {
	fs := c.flags("idps remove")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("idps remove needs one IdP name")
	}
	st, _, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	var p store.IdP
	err = st.InTx(ctx, func(tx store.Tx) error {
		if p, err = tx.IdPByName(ctx, pos[0]); err != nil {
			return err
		}
		if err := tx.DeleteIdP(ctx, p.ID); err != nil {
			return err
		}
		return tx.Record(ctx, &audit.Event{Type: sp.EventIdPRemoved, Actor: "cli", Subject: p.Name,
			Outcome: audit.Success, Details: map[string]string{"entity_id": p.EntityID}})
	})
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("IdP %q does not exist", pos[0])
	} else if err != nil {
		return err
	}
	if *asJSON {
		return c.printJSON(map[string]any{"id": p.ID, "name": p.Name, "action": "remove"})
	}
	fmt.Fprintf(c.stdout, "IdP %s removed.\n", p.Name)
	return nil
}

// idpsRefresh fetches the metadata of one IdP, or of every IdP added from
// a URL, now. Exit 1 if any fetch failed; those IdPs keep their metadata.
func (c *cli) idpsRefresh(ctx context.Context, args []string) error {
	fs := c.flags("idps refresh")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("idps refresh takes at most one IdP name")
	}
	st, _, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	var idps []store.IdP
	if len(pos) == 1 {
		p, err := st.IdPByName(ctx, pos[0])
		switch {
		case errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("IdP %q does not exist", pos[0])
		case err != nil:
			return err
		case p.MetadataURL == "":
			return fmt.Errorf("IdP %q has metadata from a file, not a URL: remove it and add it again to change it", p.Name)
		}
		idps = []store.IdP{p}
	} else if idps, err = st.ListIdPs(ctx); err != nil {
		return err
	}
	var views []refreshView
	for _, p := range idps {
		if p.MetadataURL != "" {
			views = append(views, refreshIdP(ctx, st, p))
		}
	}
	return c.printIdPRefresh(views, *asJSON)
}

// refreshIdP fetches p's metadata and, when it differs, checks it and
// writes it with its idp.refreshed event. A document naming another entity
// ID is refused: that is a different IdP, not a rollover.
func refreshIdP(ctx context.Context, st store.Store, p store.IdP) refreshView {
	v := refreshView{Name: p.Name, URL: p.MetadataURL}
	fail := func(err error) refreshView { v.Error = err.Error(); return v }
	doc, err := catalog.Fetcher{}.Fetch(ctx, p.MetadataURL)
	if err != nil {
		return fail(err)
	}
	if string(doc) == p.Metadata {
		return v
	}
	u, err := checkedMetadata(doc, time.Now())
	if err != nil {
		return fail(err)
	}
	if u.EntityID != p.EntityID {
		return fail(fmt.Errorf("metadata now names entity ID %s instead of %s: refusing it (remove the IdP and add it again if the change is meant)",
			u.EntityID, p.EntityID))
	}
	err = st.InTx(ctx, func(tx store.Tx) error {
		cur, err := tx.IdP(ctx, p.ID)
		if err != nil || cur.Metadata == string(doc) { // removed, or another node was first
			return err
		}
		cur.Metadata = string(doc)
		if err := tx.UpdateIdP(ctx, cur); err != nil {
			return err
		}
		v.Changed = true
		return tx.Record(ctx, &audit.Event{Type: sp.EventIdPRefreshed, Actor: "cli", Subject: p.Name, Outcome: audit.Success,
			Details: map[string]string{"url": p.MetadataURL, "certificates": fingerprints(u)}})
	})
	if err != nil {
		v.Changed = false
		return fail(err)
	}
	return v
}

func (c *cli) printIdPRefresh(views []refreshView, asJSON bool) error {
	failed := 0
	rows := make([][]string, 0, len(views))
	for _, v := range views {
		if v.Error != "" {
			failed++
		}
		rows = append(rows, []string{v.Name, refreshOutcome(v), v.URL})
	}
	switch {
	case asJSON:
		if views == nil {
			views = []refreshView{}
		}
		if err := c.printJSON(views); err != nil {
			return err
		}
	case len(views) == 0:
		fmt.Fprintln(c.stdout, "No IdP has metadata from a URL.")
	default:
		c.table([]string{"NAME", "RESULT", "URL"}, rows)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d IdPs could not be refreshed and keep their metadata", failed, len(views))
	}
	return nil
}

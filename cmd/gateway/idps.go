package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/internal/catalog"
	"github.com/portcullis/portcullis/sp"
	"github.com/portcullis/portcullis/store"
)

func (c *cli) idps(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("idps needs a subcommand: add, list, set, remove, refresh")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "add":
		return c.idpsAdd(ctx, rest)
	case "list":
		return c.idpsList(ctx, rest)
	case "set":
		return c.idpsSet(ctx, rest)
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
			v.Certificates = append(v.Certificates, certView{SHA256: catalog.Fingerprint(c), NotAfter: rfc3339(c.NotAfter)})
		}
	}
	return v
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
	settingsFlags(fs, &f.settings)
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
	p, u, err := (&catalog.Catalog{Store: st, Actor: "cli"}).AddIdP(ctx, strings.TrimSpace(pos[0]), f.metadata, f.settings)
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

// settingsFlags defines the flags of an IdP's settings on fs, with the
// defaults of idps add.
func settingsFlags(fs *flag.FlagSet, s *sp.Settings) {
	fs.StringVar(&s.Link, "link", sp.LinkByEmail, "how an upstream user links to ours: email, nameid or attribute")
	fs.StringVar(&s.LinkAttribute, "link-attribute", "", "the upstream attribute to link by (with --link attribute)")
	fs.BoolVar(&s.CreateUsers, "create-users", false, "create users on their first login (just in time)")
	fs.StringVar(&s.GroupsAttribute, "groups-attribute", "", "the upstream attribute whose values become group memberships")
	fs.BoolVar(&s.TrustMFA, "trust-mfa", false, "let the upstream REFEDS MFA statement satisfy our MFA policy")
	fs.BoolVar(&s.AllowUnsolicited, "allow-unsolicited", false, "accept IdP-initiated logins (responses we did not ask for)")
	fs.StringVar(&s.Want, "want", sp.WantEither, "what the IdP must sign: response, assertion or either")
}

// idpsSet changes the settings named on the command line and keeps the
// others (boolean ones are turned off with --flag=false).
func (c *cli) idpsSet(ctx context.Context, args []string) error {
	fs := c.flags("idps set")
	asJSON := fs.Bool("json", false, "print JSON")
	var given sp.Settings
	settingsFlags(fs, &given)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("idps set needs one IdP name")
	}
	var set []string
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "json" {
			set = append(set, f.Name)
		}
	})
	if len(set) == 0 {
		return usagef("idps set needs a setting to change (--link, --create-users, --trust-mfa, ...)")
	}
	st, _, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	p, _, err := (&catalog.Catalog{Store: st, Actor: "cli"}).SetIdPSettings(ctx, pos[0], func(s *sp.Settings) {
		for _, name := range set {
			copySetting(s, given, name)
		}
	})
	if errors.Is(err, sp.ErrInvalidSettings) {
		return usagef("idps set: %v", strings.TrimPrefix(err.Error(), "sp: idp settings: "))
	} else if err != nil {
		return err
	}
	if *asJSON {
		return c.printJSON(viewIdP(p))
	}
	fmt.Fprintf(c.stdout, "IdP %s updated: %s.\n", p.Name, strings.Join(set, ", "))
	return nil
}

// copySetting copies the setting of flag name from given to s.
func copySetting(s *sp.Settings, given sp.Settings, name string) {
	switch name {
	case "link":
		s.Link = given.Link
		if given.Link != sp.LinkByAttribute {
			s.LinkAttribute = ""
		}
	case "link-attribute":
		s.LinkAttribute = given.LinkAttribute
	case "create-users":
		s.CreateUsers = given.CreateUsers
	case "groups-attribute":
		s.GroupsAttribute = given.GroupsAttribute
	case "trust-mfa":
		s.TrustMFA = given.TrustMFA
	case "allow-unsolicited":
		s.AllowUnsolicited = given.AllowUnsolicited
	case "want":
		s.Want = given.Want
	}
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
	p, err := (&catalog.Catalog{Store: st, Actor: "cli"}).RemoveIdP(ctx, pos[0])
	if err != nil {
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
	cat := &catalog.Catalog{Store: st, Actor: "cli"}
	var results []catalog.IdPResult
	if len(pos) == 1 {
		r, err := cat.RefreshIdP(ctx, pos[0])
		if r.IdP == "" { // not refreshed at all: unknown IdP, or a file
			return err
		}
		results = []catalog.IdPResult{r}
	} else if results, err = cat.RefreshAllIdPs(ctx); err != nil {
		return err
	}
	return c.printIdPRefresh(results, *asJSON)
}

func (c *cli) printIdPRefresh(results []catalog.IdPResult, asJSON bool) error {
	views := make([]refreshView, 0, len(results))
	rows := make([][]string, 0, len(results))
	failed := 0
	for _, r := range results {
		v := refreshView{Name: r.IdP, URL: r.URL, Changed: r.Changed}
		if r.Err != nil {
			v.Error, failed = r.Err.Error(), failed+1
		}
		views = append(views, v)
		rows = append(rows, []string{v.Name, refreshOutcome(v), v.URL})
	}
	switch {
	case asJSON:
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

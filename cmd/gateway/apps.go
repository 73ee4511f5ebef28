package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/internal/catalog"
	"github.com/portcullis/portcullis/store"
)

func (c *cli) apps(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("apps needs a subcommand: add, list, remove, refresh")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "add":
		return c.appsAdd(ctx, rest)
	case "list":
		return c.appsList(ctx, rest)
	case "remove":
		return c.appsRemove(ctx, rest)
	case "refresh":
		return c.appsRefresh(ctx, rest)
	default:
		return usagef("unknown apps subcommand %q", sub)
	}
}

// appView is an app as the CLI prints it.
type appView struct {
	ID             int64    `json:"id"`
	Name           string   `json:"name"`
	Kind           string   `json:"kind"`
	EntityID       string   `json:"entity_id"`
	ACSURLs        []string `json:"acs_urls"`
	Groups         []string `json:"groups"`
	MFA            string   `json:"mfa"`
	MetadataSource string   `json:"metadata_source"` // the URL, or "file"
	UpdatedAt      string   `json:"updated_at"`
}

func viewApp(a store.App) appView {
	v := appView{ID: a.ID, Name: a.Name, Kind: string(a.Kind), EntityID: a.EntityID,
		ACSURLs: catalog.StoredACSURLs(a.Metadata), Groups: a.Groups, MFA: a.MFA,
		MetadataSource: a.MetadataURL, UpdatedAt: rfc3339(a.UpdatedAt)}
	if v.MetadataSource == "" {
		v.MetadataSource = "file"
	}
	if v.ACSURLs == nil {
		v.ACSURLs = []string{}
	}
	if v.Groups == nil {
		v.Groups = []string{}
	}
	return v
}

// appFlags reads the flags of apps add into a catalog.NewApp.
type appFlags struct {
	metadata, mfa, nameIDFormat, nameIDAttr, sign, encrypt, mfaMaxAge string
	groups, attrs, mfaFactors                                         stringList
}

func (c *cli) appsAdd(ctx context.Context, args []string) error {
	fs := c.flags("apps add")
	asJSON := fs.Bool("json", false, "print JSON")
	var f appFlags
	fs.StringVar(&f.metadata, "metadata", "", "the app's SAML metadata: a file or an http(s) URL")
	fs.StringVar(&f.mfa, "mfa", catalog.DefaultMFA, "required, optional or off")
	fs.Var(&f.mfaFactors, "mfa-factor", "a second factor the app accepts: webauthn, push, totp, recovery or upstream_mfa (repeatable; default any)")
	fs.StringVar(&f.mfaMaxAge, "mfa-max-age", "", "how old the second factor may be, e.g. 12h (default: any age within the session)")
	fs.Var(&f.groups, "group", "let this group use the app (repeatable; '*' for every user)")
	fs.StringVar(&f.nameIDFormat, "nameid-format", "", "email, persistent, transient or unspecified")
	fs.StringVar(&f.nameIDAttr, "nameid-attr", "", "source of the NameID: email, id or a directory attribute")
	fs.Var(&f.attrs, "attr", `an attribute of the assertion: NAME=SOURCE or NAME="constant" (repeatable)`)
	fs.StringVar(&f.sign, "sign", "", "what to sign: assertion, response or both")
	fs.StringVar(&f.encrypt, "encrypt", "", "assertion encryption: off, aes256-gcm or aes128-cbc")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	n, err := f.newApp(pos)
	if err != nil {
		return err
	}
	st, _, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	a, err := (&catalog.Catalog{Store: st, Actor: "cli"}).Add(ctx, n)
	if err != nil {
		return err
	}
	c.warnAdded(a)
	if *asJSON {
		return c.printJSON(viewApp(a))
	}
	v := viewApp(a)
	fmt.Fprintf(c.stdout, "Added app %s (entity ID %s, id %d).\n  ACS:    %s\n  MFA:    %s\n  groups: %s\n",
		a.Name, a.EntityID, a.ID, strings.Join(v.ACSURLs, ", "), a.MFA, orDash(strings.Join(a.Groups, ", ")))
	return nil
}

// newApp checks the command line: every mistake in it is a usage error.
func (f appFlags) newApp(pos []string) (catalog.NewApp, error) {
	if len(pos) != 1 || strings.TrimSpace(pos[0]) == "" {
		return catalog.NewApp{}, usagef("apps add needs one app name")
	}
	if f.metadata == "" {
		return catalog.NewApp{}, usagef("apps add needs --metadata FILE|URL")
	}
	n := catalog.NewApp{Name: pos[0], Source: f.metadata, MFA: f.mfa, Groups: f.groups,
		Settings: idp.AppSettings{NameIDFormat: f.nameIDFormat, NameIDAttribute: f.nameIDAttr, Sign: f.sign,
			Encrypt: f.encrypt, MFAFactors: f.mfaFactors, MFAMaxAge: f.mfaMaxAge}}
	for _, s := range f.attrs {
		m, err := idp.ParseMapping(s)
		if err != nil {
			return n, usagef("--attr: %v", err)
		}
		n.Settings.Attributes = append(n.Settings.Attributes, m)
	}
	if err := n.Check(); err != nil {
		return n, usagef("apps add: %v", err)
	}
	return n, nil
}

// warnAdded says on stderr what the operator may not have meant.
func (c *cli) warnAdded(a store.App) {
	if len(a.Groups) == 0 {
		fmt.Fprintf(c.stderr, "warning: app %s has no group, so nobody can use it until it is in a shared folder;"+
			" add it again with --group NAME, or --group '*' for every user\n", a.Name)
	}
	if strings.HasPrefix(strings.ToLower(a.MetadataURL), "http://") {
		fmt.Fprintf(c.stderr, "warning: app %s's metadata comes over plain http: whoever can change it on the way"+
			" can change where assertions go; prefer https\n", a.Name)
	}
}

func (c *cli) appsList(ctx context.Context, args []string) error {
	return runListing(ctx, c, args, listing[appView]{
		name:   "apps list",
		header: []string{"NAME", "ENTITY ID", "ACS", "GROUPS", "MFA", "METADATA", "UPDATED"},
		load: func(ctx context.Context, st store.Store, _ *config.Config) ([]appView, error) {
			apps, err := st.ListApps(ctx)
			views := make([]appView, 0, len(apps))
			for _, a := range apps {
				views = append(views, viewApp(a))
			}
			return views, err
		},
		row: func(v appView) []string {
			return []string{v.Name, v.EntityID, strings.Join(v.ACSURLs, ","),
				orDash(strings.Join(v.Groups, ",")), v.MFA, v.MetadataSource, v.UpdatedAt}
		},
	})
}

func (c *cli) appsRemove(ctx context.Context, args []string) error {
	fs := c.flags("apps remove")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("apps remove needs one app name")
	}
	st, _, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	a, err := (&catalog.Catalog{Store: st, Actor: "cli"}).Remove(ctx, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		return c.printJSON(map[string]any{"id": a.ID, "name": a.Name, "action": "remove"})
	}
	fmt.Fprintf(c.stdout, "App %s removed.\n", a.Name)
	return nil
}

// refreshView is the outcome of one refresh as the CLI prints it.
type refreshView struct {
	Name    string `json:"name"`
	URL     string `json:"url"`
	Changed bool   `json:"changed"`
	Error   string `json:"error,omitempty"`
}

// appsRefresh fetches the metadata of one app, or of every app added from
// a URL, now. Exit 1 if any fetch failed; those apps keep their metadata.
func (c *cli) appsRefresh(ctx context.Context, args []string) error {
	fs := c.flags("apps refresh")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("apps refresh takes at most one app name")
	}
	st, _, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	cat := &catalog.Catalog{Store: st, Actor: "cli"}
	var results []catalog.Result
	if len(pos) == 1 {
		r, err := cat.Refresh(ctx, pos[0])
		if r.App == "" { // not refreshed at all: unknown app, or a file
			return err
		}
		results = []catalog.Result{r}
	} else if results, err = cat.RefreshAll(ctx); err != nil {
		return err
	}
	return c.printRefresh(results, *asJSON)
}

func (c *cli) printRefresh(results []catalog.Result, asJSON bool) error {
	views := make([]refreshView, 0, len(results))
	failed := 0
	for _, r := range results {
		v := refreshView{Name: r.App, URL: r.URL, Changed: r.Changed}
		if r.Err != nil {
			v.Error, failed = r.Err.Error(), failed+1
		}
		views = append(views, v)
	}
	if asJSON {
		if err := c.printJSON(views); err != nil {
			return err
		}
	} else if len(views) == 0 {
		fmt.Fprintln(c.stdout, "No app has metadata from a URL.")
	} else {
		rows := make([][]string, 0, len(views))
		for _, v := range views {
			rows = append(rows, []string{v.Name, refreshOutcome(v), v.URL})
		}
		c.table([]string{"NAME", "RESULT", "URL"}, rows)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d apps could not be refreshed and keep their metadata", failed, len(views))
	}
	return nil
}

func refreshOutcome(v refreshView) string {
	switch {
	case v.Error != "":
		return "failed: " + v.Error
	case v.Changed:
		return "updated"
	default:
		return "unchanged"
	}
}

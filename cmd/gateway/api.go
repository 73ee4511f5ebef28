package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/enterprise"
	"github.com/portcullis/portcullis/internal/server"
	"github.com/portcullis/portcullis/scim"
	"github.com/portcullis/portcullis/store"
)

// Audit event types of the api commands.
const (
	eventTokenIssued  = "api.token_issued"
	eventTokenRevoked = "api.token_revoked"
)

// api issues the credentials of the machine APIs (DESIGN.md §4).
func (c *cli) api(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("api needs a subcommand: scim-token or enterprise-secret")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "scim-token":
		return c.apiSCIMToken(ctx, rest)
	case "enterprise-secret":
		return c.apiEnterpriseSecret(ctx, rest)
	default:
		return usagef("unknown api command %q", sub)
	}
}

// apiSCIMToken issues the bearer token of a SCIM client, replacing the
// client's previous one, or with --revoke deletes it. The token is printed
// once; the store keeps only its hash.
func (c *cli) apiSCIMToken(ctx context.Context, args []string) error {
	fs := c.flags("api scim-token")
	asJSON := fs.Bool("json", false, "print JSON")
	revoke := fs.Bool("revoke", false, "delete the token instead of issuing one")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || strings.TrimSpace(pos[0]) != pos[0] || pos[0] == "" {
		return usagef("api scim-token needs one name (the SCIM client's, e.g. okta)")
	}
	name := pos[0]
	st, _, m, err := c.openStoreAndMaster(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if *revoke {
		return c.revokeSCIMToken(ctx, st, name, *asJSON)
	}
	clientID, token, hash, err := scim.NewToken(server.SCIMTokenKey(m))
	if err != nil {
		return err
	}
	err = st.InTx(ctx, func(tx store.Tx) error {
		cred := store.Credential{Kind: store.CredentialSCIM, Name: name, ClientID: clientID, SecretHash: hash}
		if err := tx.PutCredential(ctx, &cred); err != nil {
			return err
		}
		return tx.Record(ctx, &audit.Event{Type: eventTokenIssued, Actor: "cli", Subject: "scim:" + name,
			Outcome: audit.Success, Details: map[string]string{"client_id": clientID}})
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return c.printJSON(map[string]string{"token": token})
	}
	fmt.Fprintln(c.stdout, token)
	return nil
}

func (c *cli) revokeSCIMToken(ctx context.Context, st store.Store, name string, asJSON bool) error {
	err := st.InTx(ctx, func(tx store.Tx) error {
		cred, err := tx.Credential(ctx, store.CredentialSCIM, name)
		if err != nil {
			return notFound(err, fmt.Sprintf("SCIM token %q", name))
		}
		if err := tx.DeleteCredential(ctx, cred.ID); err != nil {
			return err
		}
		return tx.Record(ctx, &audit.Event{Type: eventTokenRevoked, Actor: "cli", Subject: "scim:" + name,
			Outcome: audit.Success, Details: map[string]string{"client_id": cred.ClientID}})
	})
	if err != nil {
		return err
	}
	if asJSON {
		return c.printJSON(map[string]any{"name": name, "revoked": true})
	}
	fmt.Fprintf(c.stdout, "Revoked the SCIM token %q.\n", name)
	return nil
}

// apiEnterpriseSecret makes a new Enterprise API secret (provhash) and
// prints it with the company ID; the old secret stops working in the same
// transaction. The cid is enterprise.cid, else the one chosen before, else
// a new one, kept with the secret.
func (c *cli) apiEnterpriseSecret(ctx context.Context, args []string) error {
	fs := c.flags("api enterprise-secret")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	st, cfg, m, err := c.openStoreAndMaster(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	provhash, hash, err := enterprise.NewSecret(server.EnterpriseSecretKey(m))
	if err != nil {
		return err
	}
	cid := cfg.Enterprise.CID
	err = st.InTx(ctx, func(tx store.Tx) error {
		if cid == "" {
			if old, err := tx.Credential(ctx, store.CredentialEnterprise, enterprise.CredentialName); err == nil {
				cid = old.ClientID
			}
		}
		if cid == "" {
			if cid, err = enterprise.NewCID(); err != nil {
				return err
			}
		}
		cred := store.Credential{Kind: store.CredentialEnterprise, Name: enterprise.CredentialName, ClientID: cid, SecretHash: hash}
		if err := tx.PutCredential(ctx, &cred); err != nil {
			return err
		}
		return tx.Record(ctx, &audit.Event{Type: enterprise.EventSecretRegenerated, Actor: "cli", Subject: "enterprise",
			Outcome: audit.Success, Details: map[string]string{"cid": cid}})
	})
	if err != nil {
		return err
	}
	if *asJSON {
		n, _ := strconv.ParseInt(cid, 10, 64)
		return c.printJSON(map[string]any{"cid": n, "provhash": provhash})
	}
	fmt.Fprintf(c.stdout, "cid: %s\nprovhash: %s\n", cid, provhash)
	return nil
}

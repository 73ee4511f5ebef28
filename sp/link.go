package sp

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/store"
)

// emailAttributes are the attribute names that carry the email address, in
// order of preference, compared without regard to case: the plain names
// (Okta, Portcullis), the LDAP OID (SAML2 Int), and the WS-Federation claim
// (Entra ID, AD FS).
var emailAttributes = []string{
	"email", "mail", "emailaddress", "urn:oid:0.9.2342.19200300.100.1.3",
	"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
}

// nameAttributes carry the display name, in order of preference.
var nameAttributes = []string{
	"displayname", "name", "cn", "urn:oid:2.16.840.1.113730.3.1.241",
	"http://schemas.microsoft.com/identity/claims/displayname",
}

// attribute returns the first non-blank value of the first of names a
// carries, names compared without regard to case.
func attribute(a *Assertion, names ...string) string {
	for _, want := range names {
		for name, vals := range a.Attributes {
			if !strings.EqualFold(name, want) {
				continue
			}
			for _, v := range vals {
				if v = strings.TrimSpace(v); v != "" {
					return v
				}
			}
		}
	}
	return ""
}

// emailOf is the user's email address: an email attribute, else the
// NameID when its format is emailAddress, or unspecified with an address
// for a value (Okta's default).
func emailOf(a *Assertion) string {
	if v := attribute(a, emailAttributes...); isEmail(v) {
		return v
	}
	switch saml.NameIDFormat(a.NameIDFormat) {
	case saml.EmailAddressNameIDFormat, saml.UnspecifiedNameIDFormat, "":
		if isEmail(a.NameID) {
			return a.NameID
		}
	}
	return ""
}

func isEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	return err == nil && addr.Address == s && addr.Name == ""
}

// subjectOf is what links the user under u's settings.
func subjectOf(u *upstreamIdP, a *Assertion) (string, error) {
	switch u.Settings.Link {
	case LinkByNameID:
		if a.NameIDFormat == string(saml.TransientNameIDFormat) {
			return "", refuse(ReasonNoSubject, "a transient NameID changes at every login and cannot link a user")
		}
		return a.NameID, nil
	case LinkByAttribute:
		if v := attribute(a, u.Settings.LinkAttribute); v != "" {
			return v, nil
		}
		return "", refuse(ReasonNoSubject, "the assertion has no attribute %q to link by", u.Settings.LinkAttribute)
	}
	if v := emailOf(a); v != "" {
		return v, nil
	}
	return "", refuse(ReasonNoSubject, "the assertion carries no email address (attribute or NameID) to link by")
}

// linkIn finds the user the assertion is about, or creates them just in
// time when u allows it; created says which. Linking by email matches our
// user's email (ignoring case). Linking by NameID or attribute follows the
// link recorded at the first login; a first login links to the user with
// the asserted email, if any, so that existing accounts are taken over
// rather than duplicated, and the link holds even when the email changes
// later.
func linkIn(ctx context.Context, tx store.Tx, u *upstreamIdP, a *Assertion, subject string) (store.User, bool, error) {
	if u.Settings.Link != LinkByEmail {
		l, err := tx.IdPLink(ctx, u.ID, subject)
		if err == nil {
			user, err := tx.User(ctx, l.UserID)
			return user, false, err
		}
		if !errors.Is(err, store.ErrNotFound) {
			return store.User{}, false, err
		}
	}
	email := emailOf(a)
	user, err := tx.UserByEmail(ctx, email)
	created := false
	switch {
	case err == nil:
	case !errors.Is(err, store.ErrNotFound):
		return user, false, err
	case email == "" && u.Settings.CreateUsers:
		return user, false, refuse(ReasonNoUser, "no user links to %q, and without an email address none can be created", subject)
	case !u.Settings.CreateUsers:
		return user, false, refuse(ReasonNoUser, "no user links to %q and just-in-time creation is off", subject)
	default:
		if user, err = createUser(ctx, tx, u, a, email); err != nil {
			return user, false, err
		}
		created = true
	}
	if u.Settings.Link != LinkByEmail {
		err = errors.Join(tx.CreateIdPLink(ctx, &store.IdPLink{IdPID: u.ID, Subject: subject, UserID: user.ID}),
			tx.Record(ctx, &audit.Event{Type: EventLinked, Actor: "idp:" + u.Name, Subject: user.Email,
				Outcome: audit.Success, Details: map[string]string{"idp": u.Name, "subject": subject}}))
	}
	return user, created, err
}

// EventLinked records a user linked to an upstream subject.
const EventLinked = "sp.linked"

// createUser makes a user with no password: they sign in through u.
func createUser(ctx context.Context, tx store.Tx, u *upstreamIdP, a *Assertion, email string) (store.User, error) {
	user := store.User{Email: email, Name: attribute(a, nameAttributes...), Attributes: map[string]string{}}
	if user.Name == "" {
		user.Name = strings.TrimSpace(attribute(a, "givenname", "firstname",
			"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname") + " " +
			attribute(a, "sn", "surname", "lastname", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"))
	}
	if err := tx.CreateUser(ctx, &user); err != nil {
		return user, fmt.Errorf("create user %s: %w", email, err)
	}
	return user, tx.Record(ctx, &audit.Event{Type: audit.UserCreated, Actor: "idp:" + u.Name, Subject: email,
		Outcome: audit.Success, Details: map[string]string{"idp": u.Name, "just_in_time": "true"}})
}

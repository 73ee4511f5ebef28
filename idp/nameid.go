package idp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"

	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
)

// formats maps the settings' short names to saml-core §8.3 format URIs.
var formats = map[string]saml.NameIDFormat{
	"":                saml.EmailAddressNameIDFormat,
	NameIDEmail:       saml.EmailAddressNameIDFormat,
	NameIDPersistent:  saml.PersistentNameIDFormat,
	NameIDTransient:   saml.TransientNameIDFormat,
	NameIDUnspecified: saml.UnspecifiedNameIDFormat,
}

// newEntry is the SAML entry this sign-in records in the session for single
// logout: the app, a SessionIndex and the NameID. A second sign-in to the
// same app in one session keeps its SessionIndex and, for transient
// NameIDs, its value, so the app sees one session.
func (f *ssoFlow) newEntry() (session.SAMLEntry, error) {
	st := f.app.Settings
	format := string(formats[st.NameIDFormat])
	prev, had := findEntry(f.sess.SAML, f.app.EntityID)
	e := session.SAMLEntry{App: f.app.EntityID, NameIDFormat: format, SessionIndex: prev.SessionIndex}
	if !had {
		e.SessionIndex = "_" + rand.Text()
	}
	var err error
	switch {
	case st.NameIDAttribute != "":
		e.NameID, err = sourceValue(f.user, st.NameIDAttribute)
	case format == string(saml.PersistentNameIDFormat):
		e.NameID, err = f.h.pseudonym(f.app.ID, f.user.ID)
	case format == string(saml.TransientNameIDFormat) && had && prev.NameIDFormat == format:
		e.NameID = prev.NameID
	case format == string(saml.TransientNameIDFormat):
		e.NameID = "_" + rand.Text()
	default:
		e.NameID = f.user.Email
	}
	return e, err
}

// pseudonym is the persistent NameID of a user at an app (saml-core §8.3.7:
// opaque, stable, and different per app so apps cannot correlate users).
func (h *Handler) pseudonym(appID, userID int64) (string, error) {
	if len(h.PseudonymKey) == 0 {
		return "", errors.New("idp: no pseudonym key for persistent NameIDs")
	}
	m := hmac.New(sha256.New, h.PseudonymKey)
	fmt.Fprintf(m, "%d|%d", appID, userID)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

// sourceValue reads NameIDAttribute: "email", "id" or a directory attribute.
func sourceValue(u store.User, source string) (string, error) {
	var v string
	switch source {
	case "email":
		v = u.Email
	case "id":
		v = strconv.FormatInt(u.ID, 10)
	default:
		v = u.Attributes[source]
	}
	if v == "" {
		return "", fmt.Errorf("idp: user %s has no value for NameID source %q", u.Email, source)
	}
	return v, nil
}

func findEntry(entries []session.SAMLEntry, app string) (session.SAMLEntry, bool) {
	for _, e := range entries {
		if e.App == app {
			return e, true
		}
	}
	return session.SAMLEntry{}, false
}

// upsert puts e in entries, replacing the entry of the same app, and reports
// whether anything changed.
func upsert(entries *[]session.SAMLEntry, e session.SAMLEntry) bool {
	for i, old := range *entries {
		if old.App == e.App {
			(*entries)[i] = e
			return old != e
		}
	}
	*entries = append(*entries, e)
	return true
}

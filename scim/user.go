package scim

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/portcullis/portcullis/store"
)

// owned are the User attributes the directory keeps in its own columns, or
// derives, rather than in the profile document.
var owned = []string{"schemas", "id", "externalId", "meta", "userName", "active", "password", "groups"}

// directoryAttrs maps profile values onto the directory attributes that
// SAML attribute mappings read (idp: given_name, family_name, attr:KEY).
var directoryAttrs = []struct{ key, path string }{
	{"given_name", "name.givenName"}, {"family_name", "name.familyName"},
	{"title", "title"}, {"user_type", "userType"}, {"locale", "locale"},
	{"preferred_language", "preferredLanguage"}, {"timezone", "timezone"}, {"nick_name", "nickName"},
	{"employee_number", EnterpriseSchema + ".employeeNumber"}, {"cost_center", EnterpriseSchema + ".costCenter"},
	{"organization", EnterpriseSchema + ".organization"}, {"division", EnterpriseSchema + ".division"},
	{"department", EnterpriseSchema + ".department"}, {"manager", EnterpriseSchema + ".manager.value"},
}

// userResource renders a user and their groups as a SCIM User.
func (h *Handler) userResource(u store.User, groups []store.Group) map[string]any {
	doc := h.userDoc(u, groups)
	if u.Name != "" {
		doc["displayName"] = u.Name
	}
	if _, ok := doc["emails"]; !ok {
		doc["emails"] = []any{map[string]any{"value": u.Email, "type": "work", "primary": true}}
	}
	return doc
}

// userDoc is the user as a client wrote it, without the values
// userResource derives for display (a displayName made of name parts, an
// email made of userName), so that a PATCH applied to it does not turn
// derived values into stored ones. A user no client has named (made by
// the CLI) has its directory name as displayName.
func (h *Handler) userDoc(u store.User, groups []store.Group) map[string]any {
	doc := map[string]any{}
	if len(u.Profile) > 0 {
		_ = json.Unmarshal(u.Profile, &doc) // the store only keeps valid JSON
	}
	var exts []string
	for k := range doc {
		if strings.HasPrefix(k, "urn:") {
			exts = append(exts, k)
		}
	}
	slices.Sort(exts)
	schemaList := []any{UserSchema}
	for _, e := range exts {
		schemaList = append(schemaList, e)
	}
	doc["schemas"] = schemaList
	doc["id"] = strconv.FormatInt(u.ID, 10)
	doc["userName"] = u.Email
	doc["active"] = !u.Disabled
	if u.ExternalID != "" {
		doc["externalId"] = u.ExternalID
	}
	_, named := doc["displayName"]
	if _, parts := doc["name"]; !named && !parts && u.Name != "" {
		doc["displayName"] = u.Name
	}
	if len(groups) > 0 {
		list := make([]any, len(groups))
		for i, g := range groups {
			list[i] = map[string]any{"value": strconv.FormatInt(g.ID, 10), "display": g.Name,
				"$ref": h.location("/Groups", g.ID), "type": "direct"}
		}
		doc["groups"] = list
	}
	doc["meta"] = h.meta("User", h.location("/Users", u.ID), u.CreatedAt, u.UpdatedAt, u.Version)
	return doc
}

// applyUser sets u from a normalized SCIM User document and returns the
// password it carries, if any. create says whether u is new: then a missing
// active means true; on a replace it keeps the current value (Okta's PUT
// may leave it out). Read-only attributes in doc are ignored (RFC 7644
// §3.5.1).
func applyUser(u *store.User, doc map[string]any, create bool) (password string, err error) {
	name, _ := doc["userName"].(string)
	if strings.TrimSpace(name) == "" {
		return "", badRequest(invalidValue, "userName is required")
	}
	u.Email = strings.TrimSpace(name)
	u.ExternalID, _ = doc["externalId"].(string)
	if active, ok := doc["active"].(bool); ok {
		u.Disabled = !active
	} else if create {
		u.Disabled = false
	}
	password, _ = doc["password"].(string)
	u.Name = fullName(doc)
	if u.Attributes == nil {
		u.Attributes = map[string]string{}
	}
	for _, d := range directoryAttrs {
		if v := lookupString(doc, d.path); v != "" {
			u.Attributes[d.key] = v
		} else {
			delete(u.Attributes, d.key)
		}
	}
	profile := make(map[string]any, len(doc))
	for k, v := range doc {
		profile[k] = v
	}
	for _, k := range owned {
		delete(profile, k)
	}
	u.Profile = nil
	if len(profile) > 0 {
		if u.Profile, err = json.Marshal(profile); err != nil {
			return "", badRequest(invalidValue, "the user cannot be stored: %v", err)
		}
	}
	return password, nil
}

// fullName is the directory's single name: displayName, else the formatted
// name, else given and family name.
func fullName(doc map[string]any) string {
	if s, _ := doc["displayName"].(string); strings.TrimSpace(s) != "" {
		return strings.TrimSpace(s)
	}
	if s := lookupString(doc, "name.formatted"); s != "" {
		return s
	}
	return strings.TrimSpace(lookupString(doc, "name.givenName") + " " + lookupString(doc, "name.familyName"))
}

// lookupString follows a dotted path of single-valued attributes (the
// first segment may be an extension URN, which contains dots).
func lookupString(doc map[string]any, path string) string {
	var v any = doc
	if strings.HasPrefix(path, EnterpriseSchema+".") {
		v = doc[EnterpriseSchema]
		path = strings.TrimPrefix(path, EnterpriseSchema+".")
	}
	for _, k := range strings.Split(path, ".") {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	s, _ := v.(string)
	return strings.TrimSpace(s)
}

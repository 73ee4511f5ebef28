package scim

import (
	"strconv"
	"strings"

	"github.com/portcullis/portcullis/store"
)

// groupResource renders a group; members is nil when they were not asked
// for (excludedAttributes=members, as Entra ID reads groups).
func (h *Handler) groupResource(g store.Group, members []store.Member, withMembers bool) map[string]any {
	doc := map[string]any{
		"schemas":     []any{GroupSchema},
		"id":          strconv.FormatInt(g.ID, 10),
		"displayName": g.Name,
		"meta":        h.meta("Group", h.location("/Groups", g.ID), g.CreatedAt, g.UpdatedAt, g.Version),
	}
	if g.ExternalID != "" {
		doc["externalId"] = g.ExternalID
	}
	if withMembers {
		list := make([]any, len(members))
		for i, m := range members {
			list[i] = h.memberValue(m)
		}
		doc["members"] = list
	}
	return doc
}

func (h *Handler) memberValue(m store.Member) map[string]any {
	return map[string]any{"value": strconv.FormatInt(m.UserID, 10), "display": m.Email,
		"$ref": h.location("/Users", m.UserID), "type": "User"}
}

// groupFields reads displayName and externalId from a normalized Group
// document.
func groupFields(doc map[string]any) (store.Group, error) {
	var g store.Group
	name, _ := doc["displayName"].(string)
	if strings.TrimSpace(name) == "" {
		return g, badRequest(invalidValue, "displayName is required")
	}
	g.Name = strings.TrimSpace(name)
	g.ExternalID, _ = doc["externalId"].(string)
	return g, nil
}

// memberIDs reads the user IDs of a members value: a list of objects (or
// one object) whose value is a user's id. Groups cannot be members.
func memberIDs(v any) ([]int64, error) {
	var ids []int64
	for _, item := range asList(v) {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, badRequest(invalidValue, "a member must be an object with a value, got %s", jsonText(item))
		}
		k, _ := key(m, "value")
		s, _ := m[k].(string)
		id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || id <= 0 {
			return nil, badRequest(invalidValue, "member value %s is not the id of a User", jsonText(m[k]))
		}
		if t, _ := m["type"].(string); t != "" && !strings.EqualFold(t, "User") {
			return nil, badRequest(invalidValue, "member %s is a %s: only Users can be members", s, t)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

package scim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// normalize puts a client's document into the shape the schema gives it,
// in place: attribute names in their canonical case, extension attributes
// sent flat ("urn:…:User:department") moved into their extension object,
// booleans sent as strings ("False", as Entra ID does) made booleans, and a
// single value of a multi-valued attribute made a list. A value of the
// wrong type is invalidValue. Attributes the schema does not know are kept
// as they are (lastpass-apis.md §4.3: never fail on an unknown attribute).
func normalize(rt *resourceType, doc map[string]any) error {
	for k, v := range doc {
		if ext, attr, ok := flatExtension(rt, k); ok && !strings.EqualFold(ext, rt.schema) {
			delete(doc, k)
			obj, _ := doc[ext].(map[string]any)
			if obj == nil {
				obj = map[string]any{}
			}
			obj[attr] = v
			doc[ext] = obj
		}
	}
	for k, v := range doc {
		if ext := rt.extension(k); ext != "" {
			obj, ok := v.(map[string]any)
			if !ok {
				return badRequest(invalidValue, "%s must be an object", ext)
			}
			if err := normalizeAttrs(rt.ext, obj, ext+":"); err != nil {
				return err
			}
			rename(doc, k, ext)
		}
	}
	return normalizeAttrs(append(append([]Attr(nil), common...), rt.core...), doc, "")
}

// extension is the canonical URN of rt's extension that k names, or "".
func (rt *resourceType) extension(k string) string {
	for _, e := range rt.extensions {
		if strings.EqualFold(k, e) {
			return e
		}
	}
	return ""
}

// flatExtension splits "urn:…:User:department" into the extension and the
// attribute: a known extension by its URN, any other at the last colon
// (RFC 7644 §3.10), unless k is itself a schema URN.
func flatExtension(rt *resourceType, k string) (ext, attr string, ok bool) {
	for _, e := range rt.extensions {
		if len(k) > len(e)+1 && strings.EqualFold(k[:len(e)], e) && k[len(e)] == ':' {
			return e, k[len(e)+1:], true
		}
	}
	i := strings.LastIndex(k, ":")
	if !strings.HasPrefix(strings.ToLower(k), "urn:") || isSchemaURN(k) || i < 0 {
		return "", "", false
	}
	return k[:i], k[i+1:], true
}

func rename(m map[string]any, from, to string) {
	if from == to {
		return
	}
	v := m[from]
	delete(m, from)
	m[to] = v
}

func normalizeAttrs(attrs []Attr, m map[string]any, prefix string) error {
	for k, v := range m {
		a, ok := find(attrs, k)
		if !ok {
			continue
		}
		nv, err := coerce(a, v, prefix+a.Name)
		if err != nil {
			return err
		}
		delete(m, k)
		if nv != nil {
			m[a.Name] = nv
		}
	}
	return nil
}

// coerce checks v against a and returns it in canonical form; nil removes
// the attribute (a JSON null is "no value", RFC 7643 §2.5).
func coerce(a Attr, v any, name string) (any, error) {
	if v == nil {
		return nil, nil
	}
	if a.Multi {
		list, ok := v.([]any)
		if !ok {
			list = []any{v}
		}
		one := a
		one.Multi = false
		out := make([]any, 0, len(list))
		for _, item := range list {
			if _, isObj := item.(map[string]any); a.Type == "complex" && !isObj && item != nil {
				return nil, badRequest(invalidValue, "%s must be a list of objects", name)
			}
			c, err := coerce(one, item, name)
			if err != nil {
				return nil, err
			}
			if c != nil {
				out = append(out, c)
			}
		}
		return out, nil
	}
	switch a.Type {
	case "complex":
		obj, ok := v.(map[string]any)
		if s, isString := v.(string); isString && !ok {
			if _, hasValue := find(a.Sub, "value"); hasValue {
				// Entra ID sends a manager as its bare id: the value.
				return map[string]any{"value": s}, nil
			}
		}
		if !ok {
			return nil, badRequest(invalidValue, "%s must be an object", name)
		}
		return obj, normalizeAttrs(a.Sub, obj, name+".")
	case "boolean":
		return toBool(v, name)
	case "integer", "decimal":
		if _, ok := v.(json.Number); !ok {
			return nil, badRequest(invalidValue, "%s must be a number", name)
		}
	default:
		if _, ok := v.(string); !ok {
			return nil, badRequest(invalidValue, "%s must be a string", name)
		}
	}
	return v, nil
}

// toBool accepts JSON booleans and, for Entra ID, "True"/"False" in any
// case.
func toBool(v any, name string) (bool, error) {
	switch b := v.(type) {
	case bool:
		return b, nil
	case string:
		if strings.EqualFold(b, "true") || strings.EqualFold(b, "false") {
			return strings.EqualFold(b, "true"), nil
		}
	}
	return false, badRequest(invalidValue, "%s must be a boolean, got %s", name, jsonText(v))
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// etag is the weak entity tag of a version (RFC 7644 §3.14).
func etag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// scimTime formats a time as an xsd:dateTime in UTC.
func scimTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// meta builds a resource's meta attribute.
func (h *Handler) meta(resourceType, location string, created, modified time.Time, version int64) map[string]any {
	return map[string]any{"resourceType": resourceType, "created": scimTime(created),
		"lastModified": scimTime(modified), "location": location, "version": etag(version)}
}

func (h *Handler) location(endpoint string, id int64) string {
	return strings.TrimRight(h.BaseURL, "/") + "/scim/v2" + endpoint + "/" + strconv.FormatInt(id, 10)
}

// parseID reads a resource id from the URL; anything else is a 404, as the
// resource cannot exist.
func parseID(kind, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != s { // ids are case-exact strings: not "01" or "+1"
		return 0, notFound("%s %q not found", kind, s)
	}
	return id, nil
}

// deepCopy copies a decoded JSON value.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = deepCopy(e)
		}
		return l
	}
	return v
}

package scim

import (
	"net/http"
	"strings"
)

// docsURL is where ServiceProviderConfig points clients for help.
const docsURL = "https://github.com/portcullis/portcullis/blob/main/docs/scim.md"

// discovery serves the read-only endpoints a client learns the server from
// (RFC 7644 §4): ServiceProviderConfig, ResourceTypes and Schemas. What
// they publish is built from the limits and the attribute tables the other
// endpoints enforce, so the two cannot drift apart.
func (h *Handler) discovery(c *call) error {
	// RFC 7644 §4: filtering these endpoints "SHOULD respond with 403".
	if c.r.URL.Query().Has("filter") {
		return &Error{Status: http.StatusForbidden, Detail: "filter is not supported on /" + c.resource}
	}
	if c.extra != "" {
		return notFound("no SCIM endpoint at %s", c.r.URL.Path)
	}
	switch c.resource {
	case "ServiceProviderConfig":
		if c.id != "" {
			return notFound("ServiceProviderConfig is a single resource and has no %q", c.id)
		}
		h.write(c.w, http.StatusOK, h.serviceProviderConfig())
		return nil
	case "ResourceTypes":
		return h.writeDiscovered(c, h.resourceTypeDocs())
	default:
		return h.writeDiscovered(c, h.schemaDocs())
	}
}

// discovered is one resource of /ResourceTypes or /Schemas.
type discovered struct {
	id  string
	doc any
}

// writeDiscovered answers with all of docs as a ListResponse, or with the
// one whose id the call names (URNs and type names match ignoring case).
func (h *Handler) writeDiscovered(c *call, docs []discovered) error {
	if c.id == "" {
		list := make([]any, 0, len(docs))
		for _, d := range docs {
			list = append(list, d.doc)
		}
		h.write(c.w, http.StatusOK, map[string]any{"schemas": []string{listSchema}, "totalResults": len(list),
			"itemsPerPage": len(list), "startIndex": 1, "Resources": list})
		return nil
	}
	for _, d := range docs {
		if strings.EqualFold(d.id, c.id) {
			h.write(c.w, http.StatusOK, d.doc)
			return nil
		}
	}
	return notFound("no %s with id %q", strings.TrimSuffix(c.resource, "s"), c.id)
}

// discoveryURL is the canonical URL of a discovery resource.
func (h *Handler) discoveryURL(path string) string {
	return strings.TrimSuffix(h.BaseURL, "/") + "/scim/v2/" + path
}

// serviceProviderConfig is RFC 7643 §5, with the limits of handler.go.
func (h *Handler) serviceProviderConfig() map[string]any {
	supported := map[string]any{"supported": true}
	return map[string]any{
		"schemas":          []string{spcSchema},
		"documentationUri": docsURL,
		"patch":            supported,
		"bulk":             map[string]any{"supported": true, "maxOperations": maxOperations, "maxPayloadSize": h.payloadLimit()},
		"filter":           map[string]any{"supported": true, "maxResults": maxResults},
		"changePassword":   supported,
		"sort":             supported,
		"etag":             supported,
		"authenticationSchemes": []map[string]any{{
			"type": "oauthbearertoken", "name": "OAuth Bearer Token",
			"description": "A token from `gateway api scim-token NAME`", "primary": true,
		}},
		"meta": map[string]string{"resourceType": "ServiceProviderConfig", "location": h.discoveryURL("ServiceProviderConfig")},
	}
}

// resourceTypeDocs are RFC 7643 §6 for userType and groupType.
func (h *Handler) resourceTypeDocs() []discovered {
	var docs []discovered
	for _, rt := range []*resourceType{userType, groupType} {
		doc := map[string]any{
			"schemas":     []string{rtSchema},
			"id":          rt.name,
			"name":        rt.name,
			"endpoint":    rt.endpoint,
			"description": discoverySchema(rt.schema).Description,
			"schema":      rt.schema,
			"meta":        map[string]string{"resourceType": "ResourceType", "location": h.discoveryURL("ResourceTypes/" + rt.name)},
		}
		if len(rt.extensions) > 0 {
			exts := make([]map[string]any, 0, len(rt.extensions))
			for _, e := range rt.extensions {
				exts = append(exts, map[string]any{"schema": e, "required": false})
			}
			doc["schemaExtensions"] = exts
		}
		docs = append(docs, discovered{rt.name, doc})
	}
	return docs
}

func discoverySchema(id string) Schema {
	for _, s := range schemas {
		if s.ID == id {
			return s
		}
	}
	return Schema{}
}

// schemaDoc is a schema as RFC 7643 §7 publishes it.
type schemaDoc struct {
	Schemas     []string      `json:"schemas"`
	ID          string        `json:"id"`
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Attributes  []attrDoc     `json:"attributes"`
	Meta        discoveryMeta `json:"meta"`
}

type discoveryMeta struct {
	ResourceType string `json:"resourceType"`
	Location     string `json:"location"`
}

// attrDoc is an attribute with every characteristic spelled out, defaults
// included (RFC 7643 §7).
type attrDoc struct {
	Name            string    `json:"name"`
	Type            string    `json:"type"`
	MultiValued     bool      `json:"multiValued"`
	Description     string    `json:"description"`
	Required        bool      `json:"required"`
	CaseExact       bool      `json:"caseExact"`
	Mutability      string    `json:"mutability"`
	Returned        string    `json:"returned"`
	Uniqueness      string    `json:"uniqueness"`
	ReferenceTypes  []string  `json:"referenceTypes,omitempty"`
	CanonicalValues []string  `json:"canonicalValues,omitempty"`
	SubAttributes   []attrDoc `json:"subAttributes,omitempty"`
}

// schemaDocs publish exactly each schema's own attributes: RFC 7643 §7
// leaves id, externalId and meta (§3.1) out of the resource schemas.
func (h *Handler) schemaDocs() []discovered {
	docs := make([]discovered, 0, len(schemas))
	for _, s := range schemas {
		docs = append(docs, discovered{s.ID, schemaDoc{
			Schemas: []string{schemaSchema}, ID: s.ID, Name: s.Name, Description: s.Description,
			Attributes: attrDocs(s.Attrs),
			Meta:       discoveryMeta{ResourceType: "Schema", Location: h.discoveryURL("Schemas/" + s.ID)},
		}})
	}
	return docs
}

func attrDocs(attrs []Attr) []attrDoc {
	docs := make([]attrDoc, 0, len(attrs))
	for _, a := range attrs {
		docs = append(docs, attrDoc{
			Name: a.Name, Type: a.Type, MultiValued: a.Multi, Description: a.Description,
			Required: a.Required, CaseExact: a.CaseExact,
			Mutability: orDefault(a.Mutability, readWrite), Returned: orDefault(a.Returned, "default"),
			Uniqueness: orDefault(a.Uniqueness, "none"), ReferenceTypes: a.RefTypes, CanonicalValues: a.Canonical,
		})
		if len(a.Sub) > 0 {
			docs[len(docs)-1].SubAttributes = attrDocs(a.Sub)
		}
	}
	return docs
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

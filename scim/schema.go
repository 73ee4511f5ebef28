package scim

import "strings"

// Schema URNs (RFC 7643 §8.7.1, RFC 7644 §8.2).
const (
	UserSchema       = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupSchema      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	listSchema       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	errorSchema      = "urn:ietf:params:scim:api:messages:2.0:Error"
	patchSchema      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	searchSchema     = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	bulkReqSchema    = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	bulkRespSchema   = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
	spcSchema        = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	rtSchema         = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	schemaSchema     = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// Attribute characteristics (RFC 7643 §2.2, §7).
const (
	readWrite = "readWrite"
	readOnly  = "readOnly"
	writeOnly = "writeOnly"
	immutable = "immutable"
)

// Attr describes one attribute as /Schemas publishes it; the same table
// drives case-exact filtering, type coercion and mutability checks, so
// what is published is what is enforced.
type Attr struct {
	Name        string
	Type        string // string|boolean|complex|dateTime|reference|integer|decimal|binary
	Multi       bool
	Required    bool
	CaseExact   bool
	Mutability  string // "" means readWrite
	Returned    string // "" means default
	Uniqueness  string // "" means none
	RefTypes    []string
	Canonical   []string
	Description string
	Sub         []Attr
}

// Schema is one resource schema or extension.
type Schema struct {
	ID, Name, Description string
	Attrs                 []Attr
}

func str(name, desc string) Attr { return Attr{Name: name, Type: "string", Description: desc} }

func exact(a Attr) Attr { a.CaseExact = true; return a }

func ro(a Attr) Attr { a.Mutability = readOnly; return a }

func multi(name, desc string, sub ...Attr) Attr {
	return Attr{Name: name, Type: "complex", Multi: true, Description: desc, Sub: sub}
}

// typed is a multi-valued complex attribute with the common value, display,
// type and primary sub-attributes (RFC 7643 §2.4).
func typed(name, desc string, types ...string) Attr {
	return multi(name, desc,
		str("value", "The value."), str("display", "A label for display."),
		Attr{Name: "type", Type: "string", Canonical: types, Description: "A label for the value's function."},
		Attr{Name: "primary", Type: "boolean", Description: "Whether this is the primary value."})
}

var userAttrs = []Attr{
	{Name: "userName", Type: "string", Required: true, Uniqueness: "server",
		Description: "The login name: the user's email. Unique without regard to case; may be changed (rename)."},
	{Name: "name", Type: "complex", Description: "The components of the user's name.", Sub: []Attr{
		str("formatted", "The full name."), str("familyName", "Family name."), str("givenName", "Given name."),
		str("middleName", "Middle name."), str("honorificPrefix", "Prefix."), str("honorificSuffix", "Suffix."),
	}},
	str("displayName", "The name shown to people; the directory's full name."),
	str("nickName", "Casual name."),
	{Name: "profileUrl", Type: "reference", RefTypes: []string{"external"}, Description: "Profile page."},
	str("title", "Job title."),
	str("userType", "Relationship to the organisation."),
	str("preferredLanguage", "Preferred language."),
	str("locale", "Locale."),
	str("timezone", "Time zone (IANA)."),
	{Name: "active", Type: "boolean", Description: "false disables the user and ends their sessions on every node."},
	{Name: "password", Type: "string", Mutability: writeOnly, Returned: "never",
		Description: "Sets the password for password login; stored only as an argon2id hash."},
	typed("emails", "Email addresses.", "work", "home", "other"),
	typed("phoneNumbers", "Phone numbers.", "work", "home", "mobile", "fax", "pager", "other"),
	typed("ims", "Instant messaging addresses."),
	typed("photos", "Photos.", "photo", "thumbnail"),
	multi("addresses", "Physical addresses.",
		str("formatted", "Full address."), str("streetAddress", "Street."), str("locality", "City."),
		str("region", "State or region."), str("postalCode", "Postal code."), str("country", "Country."),
		Attr{Name: "type", Type: "string", Canonical: []string{"work", "home", "other"}, Description: "Kind."},
		Attr{Name: "primary", Type: "boolean", Description: "Whether primary."}),
	{Name: "groups", Type: "complex", Multi: true, Mutability: readOnly,
		Description: "The groups the user belongs to; change them through Groups.", Sub: []Attr{
			ro(exact(str("value", "The group's id."))),
			ro(Attr{Name: "$ref", Type: "reference", RefTypes: []string{"Group"}, Description: "The group's URI."}),
			ro(str("display", "The group's name.")),
			ro(Attr{Name: "type", Type: "string", Canonical: []string{"direct"}, Description: "Always direct."}),
		}},
	typed("entitlements", "Entitlements."),
	typed("roles", "Roles."),
	typed("x509Certificates", "Certificates."),
}

var enterpriseAttrs = []Attr{
	str("employeeNumber", "Employee number."),
	str("costCenter", "Cost centre."),
	str("organization", "Organisation."),
	str("division", "Division."),
	str("department", "Department."),
	{Name: "manager", Type: "complex", Description: "The user's manager.", Sub: []Attr{
		exact(str("value", "The manager's id.")),
		{Name: "$ref", Type: "reference", RefTypes: []string{"User"}, Description: "The manager's URI."},
		ro(str("displayName", "The manager's name.")),
	}},
}

var groupAttrs = []Attr{
	{Name: "displayName", Type: "string", Required: true, Uniqueness: "server",
		Description: "The group's name; unique without regard to case."},
	{Name: "members", Type: "complex", Multi: true, Description: "The group's users (groups cannot be members).", Sub: []Attr{
		{Name: "value", Type: "string", CaseExact: true, Mutability: immutable, Description: "The member's id."},
		{Name: "$ref", Type: "reference", RefTypes: []string{"User"}, Mutability: immutable, Description: "The member's URI."},
		ro(str("display", "The member's userName.")),
		{Name: "type", Type: "string", Canonical: []string{"User"}, Mutability: immutable, Description: "Always User."},
	}},
}

// common are the attributes every resource has (RFC 7643 §3.1).
var common = []Attr{
	{Name: "id", Type: "string", CaseExact: true, Mutability: readOnly, Returned: "always", Uniqueness: "server",
		Description: "The server's identifier."},
	{Name: "externalId", Type: "string", CaseExact: true, Description: "The provisioning client's identifier."},
	{Name: "meta", Type: "complex", Mutability: readOnly, Description: "Resource metadata.", Sub: []Attr{
		ro(exact(str("resourceType", "User or Group."))), ro(Attr{Name: "created", Type: "dateTime"}),
		ro(Attr{Name: "lastModified", Type: "dateTime"}), ro(exact(Attr{Name: "location", Type: "reference"})),
		ro(exact(str("version", "The ETag."))),
	}},
}

var schemas = []Schema{
	{ID: UserSchema, Name: "User", Description: "User Account", Attrs: userAttrs},
	{ID: EnterpriseSchema, Name: "EnterpriseUser", Description: "Enterprise User", Attrs: enterpriseAttrs},
	{ID: GroupSchema, Name: "Group", Description: "Group", Attrs: groupAttrs},
}

// resourceType binds a schema and its extensions to an endpoint.
type resourceType struct {
	name, endpoint, schema string
	extensions             []string
	core, ext              []Attr
}

var (
	userType  = &resourceType{name: "User", endpoint: "/Users", schema: UserSchema, extensions: []string{EnterpriseSchema}, core: userAttrs, ext: enterpriseAttrs}
	groupType = &resourceType{name: "Group", endpoint: "/Groups", schema: GroupSchema, core: groupAttrs}
)

// lookup finds the definition of a dotted, schema-qualified path such as
// "emails.value" or EnterpriseSchema+":manager.value", ignoring case.
func (rt *resourceType) lookup(uri, name, sub string) (Attr, bool) {
	attrs := append(append([]Attr(nil), common...), rt.core...)
	switch {
	case uri == "" || strings.EqualFold(uri, rt.schema):
	case len(rt.extensions) > 0 && strings.EqualFold(uri, rt.extensions[0]):
		attrs = rt.ext
	default:
		return Attr{}, false
	}
	a, ok := find(attrs, name)
	if !ok || sub == "" {
		return a, ok
	}
	return find(a.Sub, sub)
}

func find(attrs []Attr, name string) (Attr, bool) {
	for _, a := range attrs {
		if strings.EqualFold(a.Name, name) {
			return a, true
		}
	}
	return Attr{}, false
}

// caseExact answers filter.Options.CaseExact for the resource type: the
// path is lower-cased and dotted, optionally schema-qualified.
func (rt *resourceType) caseExact(path string) bool {
	uri := ""
	if strings.HasPrefix(path, "urn:") {
		if i := strings.LastIndex(path, ":"); i > 0 {
			uri, path = path[:i], path[i+1:]
		}
	}
	name, sub, _ := strings.Cut(path, ".")
	a, ok := rt.lookup(uri, name, sub)
	return ok && a.CaseExact
}

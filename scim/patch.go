package scim

import (
	"net/http"
	"reflect"
	"strings"

	"github.com/portcullis/portcullis/scim/filter"
)

// patchOp is one operation of a PatchOp request (RFC 7644 §3.5.2).
type patchOp struct {
	op    string // add, replace or remove: Entra ID's "Replace" folded
	path  string // "" when none
	value any
}

// maxPatchOps bounds the operations of one PATCH.
const maxPatchOps = 1000

// decodePatch reads a PatchOp body. Member names are matched without regard
// to case, and op values are folded ("Add", "Replace", "Remove" from Entra
// ID).
func decodePatch(r *http.Request) ([]patchOp, error) {
	body, err := decode(r)
	if err != nil {
		return nil, err
	}
	k, _ := key(body, "Operations")
	list, ok := body[k].([]any)
	if !ok || len(list) == 0 {
		return nil, badRequest(invalidSyntax, "a PatchOp needs a non-empty Operations list")
	}
	if len(list) > maxPatchOps {
		return nil, badRequest(tooMany, "a PatchOp may have at most %d operations, this one has %d", maxPatchOps, len(list))
	}
	ops := make([]patchOp, 0, len(list))
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, badRequest(invalidSyntax, "operation %d is not an object", i+1)
		}
		op, err := parseOp(m, i+1)
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return ops, nil
}

func parseOp(m map[string]any, n int) (patchOp, error) {
	get := func(name string) any {
		k, _ := key(m, name)
		return m[k]
	}
	name, _ := get("op").(string)
	op := patchOp{op: strings.ToLower(strings.TrimSpace(name)), value: get("value")}
	if op.op != "add" && op.op != "replace" && op.op != "remove" {
		return op, badRequest(invalidSyntax, "operation %d: op must be add, replace or remove, got %s", n, jsonText(get("op")))
	}
	if p := get("path"); p != nil {
		s, ok := p.(string)
		if !ok {
			return op, badRequest(invalidPath, "operation %d: path must be a string", n)
		}
		op.path = strings.TrimSpace(s)
	}
	if op.op == "remove" && op.path == "" && op.value == nil {
		return op, badRequest(noTarget, "operation %d: remove needs a path", n)
	}
	if op.op != "remove" && op.value == nil {
		return op, badRequest(invalidValue, "operation %d: %s needs a value", n, op.op)
	}
	return op, nil
}

// applyOps applies ops to doc, a resource's full document, in order. A
// value an operation makes primary takes that mark from the others of its
// attribute (RFC 7644 §3.5.2, RFC 7643 §2.4).
func applyOps(rt *resourceType, doc map[string]any, ops []patchOp) error {
	for _, op := range ops {
		before := primaries(doc)
		if err := applyOp(rt, doc, op); err != nil {
			return err
		}
		onePrimary(doc, before)
	}
	return nil
}

// primaries are the elements marked primary in doc's multi-valued
// attributes, by identity.
func primaries(doc map[string]any) map[uintptr]bool {
	out := map[uintptr]bool{}
	for _, v := range doc {
		list, _ := v.([]any)
		for _, e := range list {
			if m, ok := e.(map[string]any); ok && isTrue(m["primary"]) {
				out[reflect.ValueOf(m).Pointer()] = true
			}
		}
	}
	return out
}

// onePrimary clears the mark of the elements that had it before, in every
// attribute that now has more than one.
func onePrimary(doc map[string]any, before map[uintptr]bool) {
	for _, v := range doc {
		list, _ := v.([]any)
		var marked []map[string]any
		for _, e := range list {
			if m, ok := e.(map[string]any); ok && isTrue(m["primary"]) {
				marked = append(marked, m)
			}
		}
		if len(marked) < 2 {
			continue
		}
		for _, m := range marked {
			if before[reflect.ValueOf(m).Pointer()] {
				m["primary"] = false
			}
		}
	}
}

func isTrue(v any) bool {
	b, err := toBool(v, "")
	return err == nil && b
}

// applyOp applies one operation. Without a path the value is an object
// whose members are each applied as if named by path; Entra ID writes
// paths there too ({"name.givenName": "x"}).
func applyOp(rt *resourceType, doc map[string]any, op patchOp) error {
	if op.path != "" {
		return applyPath(rt, doc, op.op, op.path, op.value)
	}
	obj, ok := op.value.(map[string]any)
	if !ok {
		return badRequest(invalidValue, "%s without a path needs an object value", op.op)
	}
	if op.op == "remove" {
		return badRequest(noTarget, "remove needs a path")
	}
	for k, v := range obj {
		if strings.EqualFold(k, "schemas") {
			continue
		}
		if err := applyPath(rt, doc, op.op, k, v); err != nil {
			return err
		}
	}
	return nil
}

// target is where a path points: the attribute's container (the document
// or an extension object), the attribute's key, and its definition.
type target struct {
	container map[string]any
	key       string
	attr      Attr
	known     bool
}

func applyPath(rt *resourceType, doc map[string]any, op, path string, value any) error {
	for _, other := range []string{UserSchema, GroupSchema} {
		if other != rt.schema && len(path) > len(other) && strings.EqualFold(path[:len(other)+1], other+":") {
			return badRequest(invalidPath, "unknown schema %q", other)
		}
	}
	if ext := rt.extension(path); ext != "" {
		return applyTo(target{container: doc, key: ext, attr: Attr{Name: ext, Type: "complex", Sub: rt.ext}, known: true}, op, value, "", nil)
	}
	if isSchemaURN(path) {
		k := path
		if existing, ok := key(doc, path); ok {
			k = existing
		}
		return applyTo(target{container: doc, key: k, attr: Attr{Name: k, Type: "complex"}}, op, value, "", nil)
	}
	p, err := filter.ParsePath(path)
	if err != nil {
		return badRequest(invalidPath, "%v", err)
	}
	t, err := resolve(rt, doc, p.Attr, op != "remove")
	if err != nil {
		return err
	}
	if t.known && t.attr.Mutability == readOnly {
		if op != "remove" && p.Filter == nil && p.Sub == "" && p.Attr.Sub == "" && reflect.DeepEqual(t.container[t.key], value) {
			return nil // Okta sends the id it has beside a rename: setting a value to itself changes nothing
		}
		return &Error{Status: http.StatusBadRequest, Type: mutability, Detail: path + " is read-only"}
	}
	sub := p.Sub
	if p.Attr.Sub != "" {
		if p.Filter != nil {
			return badRequest(invalidPath, "%s: a filter must follow the attribute, not its sub-attribute", path)
		}
		sub = p.Attr.Sub
	}
	return applyTo(t, op, value, sub, p.Filter)
}

// isSchemaURN reports whether a path is a whole extension schema's URN,
// such as urn:ietf:params:scim:schemas:extension:acme:2.0:User: the last
// segment of such a URN names a resource type, not an attribute.
func isSchemaURN(path string) bool {
	i := strings.LastIndex(path, ":")
	return strings.HasPrefix(strings.ToLower(path), "urn:") && i > 0 &&
		(strings.EqualFold(path[i+1:], "User") || strings.EqualFold(path[i+1:], "Group"))
}

// resolve finds the container and canonical key of a path's attribute,
// creating an extension object on add and replace.
func resolve(rt *resourceType, doc map[string]any, a filter.AttrPath, create bool) (target, error) {
	container := doc
	attrs := append(append([]Attr(nil), common...), rt.core...)
	if a.URI != "" && !strings.EqualFold(a.URI, rt.schema) {
		ext := rt.extension(a.URI)
		if ext == "" {
			// An extension this server does not describe (a custom one of
			// the IdP's): its attributes are kept verbatim, as in a POST.
			if !isSchemaURN(a.URI) {
				return target{}, badRequest(invalidPath, "unknown schema %q", a.URI)
			}
			ext = a.URI
			if existing, ok := key(doc, a.URI); ok {
				ext = existing
			}
		}
		m, _ := doc[ext].(map[string]any)
		if m == nil {
			m = map[string]any{}
			if create {
				doc[ext] = m
			}
		}
		container, attrs = m, nil
		if rt.extension(ext) != "" {
			attrs = rt.ext
		}
	}
	def, known := find(attrs, a.Name)
	k := a.Name
	if known {
		k = def.Name
	}
	if existing, ok := key(container, k); ok {
		rename(container, existing, k)
	}
	return target{container: container, key: k, attr: def, known: known}, nil
}

// applyTo applies op at t, narrowed to the elements flt selects and to the
// sub-attribute sub when given.
func applyTo(t target, op string, value any, sub string, flt filter.Expr) error {
	switch {
	case flt != nil:
		return applyFiltered(t, op, value, sub, flt)
	case sub != "":
		return applySub(t, op, value, sub)
	case op == "remove":
		if list, ok := t.container[t.key].([]any); ok && value != nil {
			t.container[t.key] = without(list, asList(value))
		} else {
			delete(t.container, t.key)
		}
	case t.attr.Multi:
		if list, ok := t.container[t.key].([]any); ok && op == "add" {
			t.container[t.key] = union(list, asList(value))
		} else {
			t.container[t.key] = asList(value)
		}
	default:
		cur, isObj := t.container[t.key].(map[string]any)
		v, valObj := value.(map[string]any)
		if isObj && valObj {
			for k, e := range v {
				if ek, ok := key(cur, k); ok {
					delete(cur, ek)
				}
				cur[k] = e
			}
			return nil
		}
		t.container[t.key] = value
	}
	return nil
}

// applySub sets or removes a sub-attribute of a complex attribute, or of
// every element of a multi-valued one.
func applySub(t target, op string, value any, sub string) error {
	switch cur := t.container[t.key].(type) {
	case []any:
		for _, e := range cur {
			if m, ok := e.(map[string]any); ok {
				setSub(m, op, sub, value)
			}
		}
		if len(cur) == 0 && op != "remove" {
			t.container[t.key] = []any{map[string]any{sub: value}}
		}
	case map[string]any:
		setSub(cur, op, sub, value)
	case nil:
		if op == "remove" {
			return nil
		}
		if t.attr.Multi {
			t.container[t.key] = []any{map[string]any{sub: value}}
		} else {
			t.container[t.key] = map[string]any{sub: value}
		}
	default:
		return badRequest(invalidPath, "%s has no sub-attribute %s", t.key, sub)
	}
	return nil
}

func setSub(m map[string]any, op, sub string, value any) {
	if k, ok := key(m, sub); ok {
		delete(m, k)
	}
	if op != "remove" {
		m[sub] = value
	}
}

// applyFiltered handles paths such as emails[type eq "work"].value. An add
// or replace that selects nothing appends an element built from the
// filter's equality tests, as Entra ID expects when it sets a work email a
// user does not have yet; a remove that selects nothing changes nothing.
func applyFiltered(t target, op string, value any, sub string, flt filter.Expr) error {
	list, _ := t.container[t.key].([]any)
	if _, isList := t.container[t.key].([]any); !isList && t.container[t.key] != nil {
		return badRequest(invalidPath, "%s is not multi-valued: it cannot take a filter", t.key)
	}
	opts := filter.Options{CaseExact: func(p string) bool { return t.attr.subCaseExact(p) }}
	var kept []any
	matched := 0
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok || !filter.Match(flt, m, opts) {
			kept = append(kept, e)
			continue
		}
		matched++
		switch {
		case op == "remove" && sub == "":
			continue // dropped
		case sub != "":
			setSub(m, op, sub, value)
		default:
			if v, ok := value.(map[string]any); ok {
				for k, x := range v {
					setSub(m, "replace", k, x)
				}
			}
		}
		kept = append(kept, m)
	}
	if matched == 0 && op != "remove" {
		elem, ok := equalities(flt)
		if !ok {
			return badRequest(noTarget, "the filter of %s matches no value", t.key)
		}
		if sub != "" {
			elem[sub] = value
		} else if v, ok := value.(map[string]any); ok {
			for k, x := range v {
				elem[k] = x
			}
		}
		kept = append(kept, elem)
	}
	if kept == nil {
		kept = []any{}
	}
	t.container[t.key] = kept
	return nil
}

// equalities returns the attribute values a filter of eq tests joined by
// and requires, as a new element.
func equalities(e filter.Expr) (map[string]any, bool) {
	out := map[string]any{}
	for _, c := range filter.Conjuncts(e) {
		cmp, ok := c.(filter.Compare)
		if !ok || cmp.Op != "eq" || cmp.Path.URI != "" || cmp.Path.Sub != "" {
			return nil, false
		}
		out[cmp.Path.Name] = cmp.Value
	}
	return out, true
}

func (a Attr) subCaseExact(p string) bool {
	s, ok := find(a.Sub, p)
	return ok && s.CaseExact
}

// asList is a multi-valued attribute's values: a list as it is, one value
// as a list of one, null as none.
func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// union appends the values of add that list does not already hold.
func union(list, add []any) []any {
	out := append([]any(nil), list...)
	for _, a := range add {
		if indexOf(out, a) < 0 {
			out = append(out, a)
		}
	}
	return out
}

// without drops from list the values of drop; a complex value matches an
// element with the same "value" sub-attribute.
func without(list, drop []any) []any {
	out := []any{}
	for _, e := range list {
		if indexOf(drop, e) < 0 {
			out = append(out, e)
		}
	}
	return out
}

func indexOf(list []any, v any) int {
	for i, e := range list {
		if sameValue(e, v) {
			return i
		}
	}
	return -1
}

func sameValue(a, b any) bool {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		av, aHas := am["value"]
		bv, bHas := bm["value"]
		if aHas && bHas {
			return reflect.DeepEqual(av, bv)
		}
	}
	return reflect.DeepEqual(a, b)
}

package filter

import "strings"

// Options tunes evaluation.
type Options struct {
	// CaseExact reports whether string comparison of the attribute at the
	// given canonical, lower-cased dotted path (e.g. "username",
	// "emails.value", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:employeenumber")
	// is case-exact (RFC 7643 §2.2). nil: every comparison ignores case.
	CaseExact func(path string) bool
}

// Match reports whether res, a resource decoded from JSON (objects as
// map[string]any, arrays as []any, numbers as json.Number or any Go
// integer or float), satisfies e. Attribute names match without case.
func Match(e Expr, res map[string]any, o Options) bool {
	return evaluator{o}.match(e, res, "")
}

type evaluator struct{ o Options }

// match evaluates e against res. prefix is the canonical path of the
// element res stands for inside a valuePath ("emails."), "" at the top.
func (ev evaluator) match(e Expr, res map[string]any, prefix string) bool {
	switch x := deref(e).(type) {
	case And:
		return ev.match(x.Left, res, prefix) && ev.match(x.Right, res, prefix)
	case Or:
		return ev.match(x.Left, res, prefix) || ev.match(x.Right, res, prefix)
	case Not:
		return !ev.match(x.X, res, prefix)
	case Compare:
		return ev.compare(res, x.Path, x.Op, x.Value, prefix)
	case ValuePath:
		return ev.valuePath(res, x, prefix)
	}
	return false
}

// deref accepts pointers to nodes too, since they also satisfy Expr.
func deref(e Expr) Expr {
	switch x := e.(type) {
	case *Compare:
		if x != nil {
			return *x
		}
	case *And:
		if x != nil {
			return *x
		}
	case *Or:
		if x != nil {
			return *x
		}
	case *Not:
		if x != nil {
			return *x
		}
	case *ValuePath:
		if x != nil {
			return *x
		}
	default:
		return e
	}
	return nil
}

// valuePath matches when one element satisfies the filter and, in the
// Entra form, also has a sub-attribute that compares true.
func (ev evaluator) valuePath(res map[string]any, vp ValuePath, prefix string) bool {
	raw, _ := lookup(base(res, vp.Path.URI), vp.Path.Name)
	inner := prefix + vp.Path.canonical() + "."
	for _, el := range flatten(raw) {
		m, ok := el.(map[string]any)
		if !ok || vp.Filter != nil && !ev.match(vp.Filter, m, inner) {
			continue
		}
		if vp.Op == "" || ev.compare(m, AttrPath{Name: vp.Sub}, vp.Op, vp.Value, inner) {
			return true
		}
	}
	return false
}

// compare evaluates one attribute comparison (RFC 7644 §3.4.2.2): it
// holds when any value of a multi-valued attribute compares true.
func (ev evaluator) compare(res map[string]any, p AttrPath, op Op, lit any, prefix string) bool {
	raw, _ := lookup(base(res, p.URI), p.Name)
	switch {
	case op == OpPr && p.Sub == "":
		return present(raw)
	case op == OpPr:
		return anyOf(Values(res, p), present)
	case lit == nil && (op == OpEq || op == OpNe):
		return assigned(raw, p, res) == (op == OpNe)
	case lit == nil:
		return false
	}
	vals, path := ev.candidates(res, raw, p)
	if len(vals) == 0 {
		return op == OpNe
	}
	exact := ev.o.CaseExact != nil && ev.o.CaseExact(prefix+path)
	return anyOf(vals, func(v any) bool { return compareValue(v, op, lit, exact) })
}

// candidates lists the values a comparison looks at and the canonical path
// they live at. A complex attribute named without a sub-attribute stands
// for its "value" sub-attribute, so emails co "example.com" compares each
// address.
func (ev evaluator) candidates(res map[string]any, raw any, p AttrPath) ([]any, string) {
	if p.Sub != "" {
		return Values(res, p), p.canonical()
	}
	var out []any
	complex := false
	for _, el := range flatten(raw) {
		m, ok := el.(map[string]any)
		if !ok {
			out = append(out, el)
			continue
		}
		complex = true
		v, _ := lookup(m, "value")
		out = append(out, flatten(v)...)
	}
	if complex {
		return out, p.canonical() + ".value"
	}
	return out, p.canonical()
}

// assigned reports whether the attribute holds anything but null; an empty
// array or object is unassigned too (RFC 7643 §2.5).
func assigned(raw any, p AttrPath, res map[string]any) bool {
	if p.Sub != "" {
		return len(Values(res, p)) > 0
	}
	switch x := raw.(type) {
	case nil:
		return false
	case []any:
		return len(flatten(x)) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// present is "pr": assigned and not the empty string (RFC 7644 §3.4.2.2).
// Array elements are looked at one level deep only, never recursively.
func present(v any) bool {
	if a, ok := v.([]any); ok {
		return anyOf(a, presentScalar)
	}
	return presentScalar(v)
}

func presentScalar(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

func anyOf(vals []any, f func(any) bool) bool {
	for _, v := range vals {
		if f(v) {
			return true
		}
	}
	return false
}

// Values returns every non-null value at p in res, flattened across
// multi-valued attributes: "emails.value" gives each address. Sorting and
// attribute projection use it.
func Values(res map[string]any, p AttrPath) []any {
	raw, _ := lookup(base(res, p.URI), p.Name)
	if p.Sub == "" {
		return flatten(raw)
	}
	var out []any
	for _, el := range flatten(raw) {
		if m, ok := el.(map[string]any); ok {
			v, _ := lookup(m, p.Sub)
			out = append(out, flatten(v)...)
		}
	}
	return out
}

// base returns the object holding attributes of schema uri: the resource
// itself for core attributes, else the extension object keyed by the URN.
func base(res map[string]any, uri string) map[string]any {
	if uri == "" {
		return res
	}
	ext, _ := lookup(res, uri)
	m, _ := ext.(map[string]any)
	return m
}

// lookup finds key in m without case (RFC 7643 §2.1). When several keys
// differ only in case, the exact one wins, else the least, so the result
// does not depend on map order.
func lookup(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	best, found := "", false
	for k := range m {
		if strings.EqualFold(k, key) && (!found || k < best) {
			best, found = k, true
		}
	}
	return m[best], found
}

// flatten returns the non-null values of v: its elements when it is an
// array, else v itself.
func flatten(v any) []any {
	a, ok := v.([]any)
	if !ok {
		if v == nil {
			return nil
		}
		return []any{v}
	}
	out := make([]any, 0, len(a))
	for _, el := range a {
		if el != nil {
			out = append(out, el)
		}
	}
	return out
}

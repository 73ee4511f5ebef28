package scim

import (
	"net/http"
	"strings"
)

// respond writes one resource with its ETag, projected by the request's
// attributes and excludedAttributes parameters (RFC 7644 §3.9).
func (h *Handler) respond(c *call, status int, rt *resourceType, res map[string]any, version int64) error {
	p, err := projectionOf(c.r.URL.Query().Get("attributes"), c.r.URL.Query().Get("excludedAttributes"))
	if err != nil {
		return err
	}
	c.w.Header().Set("ETag", etag(version))
	h.write(c.w, status, p.apply(rt, res))
	return nil
}

// projection is a parsed attributes / excludedAttributes pair. Names are
// lower-cased dotted paths, an extension's attributes prefixed with its URN
// and a colon.
type projection struct {
	include, exclude []string
}

func projectionOf(attributes, excluded string) (projection, error) {
	return projection{include: splitAttrs(attributes), exclude: splitAttrs(excluded)}, nil
}

func splitAttrs(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.ToLower(strings.TrimSpace(a)); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// always are returned whatever the projection says (RFC 7643 §7 "returned:
// always", plus schemas, which tells the client what it holds).
var always = []string{"id", "schemas"}

// apply returns the projection of res. With include, only those attributes
// (and always ones) stay; then excluded ones go.
func (p projection) apply(rt *resourceType, res map[string]any) map[string]any {
	if len(p.include) == 0 && len(p.exclude) == 0 {
		return res
	}
	out := res
	if len(p.include) > 0 {
		out = map[string]any{}
		for k, v := range res {
			if isAlways(k) {
				out[k] = v
			}
		}
		for _, a := range p.include {
			copyPath(out, res, qualified(rt, a))
		}
	}
	for _, a := range p.exclude {
		if !isAlways(a) {
			deletePath(out, qualified(rt, a))
		}
	}
	return out
}

func isAlways(k string) bool {
	for _, a := range always {
		if strings.EqualFold(k, a) {
			return true
		}
	}
	return false
}

// qualified splits "urn:…:User:manager.value" into ["urn:…:User", "manager",
// "value"], and a core path, with or without the core URN, into its
// segments.
func qualified(rt *resourceType, a string) []string {
	for _, uri := range append([]string{rt.schema}, rt.extensions...) {
		u := strings.ToLower(uri)
		if a == u {
			return []string{a}
		}
		if rest, ok := strings.CutPrefix(a, u+":"); ok {
			segs := strings.Split(rest, ".")
			if uri == rt.schema {
				return segs
			}
			return append([]string{a[:len(u)]}, segs...)
		}
	}
	if isSchemaURN(a) {
		return []string{a} // a custom extension as a whole
	}
	if i := strings.LastIndex(a, ":"); i > 0 && isSchemaURN(a[:i]) {
		return append([]string{a[:i]}, strings.Split(a[i+1:], ".")...)
	}
	return strings.Split(a, ".")
}

// key finds m's key that equals k without regard to case.
func key(m map[string]any, k string) (string, bool) {
	if _, ok := m[k]; ok {
		return k, true
	}
	for mk := range m {
		if strings.EqualFold(mk, k) {
			return mk, true
		}
	}
	return "", false
}

// copyPath copies the value at path from src into dst, keeping only the
// named sub-attribute of complex and multi-valued complex values.
func copyPath(dst, src map[string]any, path []string) {
	k, ok := key(src, path[0])
	if !ok {
		return
	}
	if len(path) == 1 {
		dst[k] = src[k]
		return
	}
	switch v := src[k].(type) {
	case map[string]any:
		sub, _ := dst[k].(map[string]any)
		if sub == nil {
			sub = map[string]any{}
		}
		copyPath(sub, v, path[1:])
		if len(sub) > 0 {
			dst[k] = sub
		}
	case []any:
		prev, _ := dst[k].([]any)
		list := make([]any, len(v))
		for i, e := range v {
			m, _ := e.(map[string]any)
			item := map[string]any{}
			if i < len(prev) {
				item, _ = prev[i].(map[string]any)
			}
			if m != nil {
				copyPath(item, m, path[1:])
			}
			list[i] = item
		}
		dst[k] = list
	}
}

// deletePath removes the value at path, from every element of a list.
func deletePath(m map[string]any, path []string) {
	k, ok := key(m, path[0])
	if !ok {
		return
	}
	if len(path) == 1 {
		delete(m, k)
		return
	}
	switch v := m[k].(type) {
	case map[string]any:
		deletePath(v, path[1:])
	case []any:
		for _, e := range v {
			if em, ok := e.(map[string]any); ok {
				deletePath(em, path[1:])
			}
		}
	}
}

// checkIfMatch enforces If-Match (RFC 7644 §3.14, RFC 9110 §13.1.1)
// against the version the transaction holds.
func checkIfMatch(r *http.Request, version int64) error {
	im := r.Header.Get("If-Match")
	if im == "" {
		return nil
	}
	for _, t := range strings.Split(im, ",") {
		if t = strings.TrimSpace(t); t == "*" || strings.TrimPrefix(t, "W/") == strings.TrimPrefix(etag(version), "W/") {
			return nil
		}
	}
	return &Error{Status: http.StatusPreconditionFailed,
		Detail: "the resource has changed since " + im + ": its version is now " + etag(version)}
}

// notModified answers a GET whose If-None-Match names the current version
// with 304 and reports whether it did.
func notModified(c *call, version int64) bool {
	inm := c.r.Header.Get("If-None-Match")
	if inm == "" {
		return false
	}
	for _, t := range strings.Split(inm, ",") {
		if t = strings.TrimSpace(t); t == "*" || strings.TrimPrefix(t, "W/") == strings.TrimPrefix(etag(version), "W/") {
			c.w.Header().Set("ETag", etag(version))
			c.w.WriteHeader(http.StatusNotModified)
			return true
		}
	}
	return false
}

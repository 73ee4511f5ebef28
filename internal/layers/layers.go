// Package layers holds the project's import rules (DESIGN.md §2) as data,
// and its test checks every package against them with `go list`, so that
// layering cannot rot silently.
//
// A package may import only packages of a lower layer. Domain packages
// (layer 2) never import each other; they meet through interfaces the
// consumer declares, wired in internal/server.
package layers

import "strings"

// Module is the module path.
const Module = "github.com/portcullis/portcullis"

// Layer maps each package (relative to the module; a prefix also covers its
// sub-packages) to its layer. A package that is not listed fails the test:
// new packages must say where they stand.
var Layer = map[string]int{
	"audit": 0, "keys": 0, "policy": 0, "config": 0, "mfaclient": 0,
	"templates": 0, "static": 0, "password": 0, "xmlcheck": 0,
	"web": 1, "session": 1, "store": 1,
	"idp": 2, "sp": 2, "mfa": 2, "forwardauth": 2, "enterprise": 2, "scim": 2, "portal": 2,
	"internal/server": 3, "internal/testenv": 3, "internal/catalog": 3, "cmd/gateway": 3, "internal/layers": 3, "bench": 3,
}

// Of returns the listed prefix that covers package p (relative to the
// module) and its layer; ok is false when no prefix covers it.
func Of(p string) (prefix string, layer int, ok bool) {
	for candidate, l := range Layer {
		covers := p == candidate || strings.HasPrefix(p, candidate+"/")
		if covers && len(candidate) > len(prefix) {
			prefix, layer, ok = candidate, l, true
		}
	}
	return prefix, layer, ok
}

// Allowed reports whether package from may import package to (both relative
// to the module): within one family (store and store/sqlite) always, from
// the top layer anything, otherwise only a lower layer.
func Allowed(from, to string) bool {
	fp, fl, _ := Of(from)
	tp, tl, _ := Of(to)
	return fp == tp || fl == 3 || tl < fl
}

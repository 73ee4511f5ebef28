package forwardauth

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/portcullis/portcullis/config"
)

// Policies of a rule.
const (
	Bypass    = "bypass"
	OneFactor = "one_factor"
	TwoFactor = "two_factor"
	Deny      = "deny"
)

// Rule is a compiled forward_auth rule.
type Rule struct {
	Index     int // position in the config, -1 for the default
	Host      string
	Path      string
	Methods   []string
	Policy    string
	Groups    []string
	MaxMFAAge time.Duration

	host *regexp.Regexp // nil: any host
	path *regexp.Regexp // nil: any path
}

// Rules is the ordered rule list and the default for requests no rule
// matches.
type Rules struct {
	list  []Rule
	def   Rule
	cover []string // exact hosts that are return targets without a rule
}

// Compile checks and compiles the configured rules. Host patterns are a
// name ("app.example.com", case-insensitive) or "*.example.com", which
// matches every name below example.com (at any depth) but not example.com
// itself. Path patterns are anchored at both ends, and "*" matches any run
// of characters, "/" included: "/api/*" matches "/api/" and "/api/v1/x", not
// "/api". The path is matched as the proxy sent it, after percent-decoding
// and without the query.
func Compile(rules []config.Rule, defaultPolicy string) (*Rules, error) {
	out := &Rules{def: Rule{Index: -1, Policy: defaultPolicy}}
	if !slices.Contains([]string{Bypass, OneFactor, TwoFactor, Deny}, defaultPolicy) {
		return nil, fmt.Errorf("forward_auth.default_policy %q is not bypass, one_factor, two_factor or deny", defaultPolicy)
	}
	for i, r := range rules {
		c := Rule{Index: i, Host: strings.ToLower(r.Host), Path: r.Path, Methods: r.Methods, Policy: r.Policy,
			Groups: r.Groups, MaxMFAAge: r.MaxMFAAge.D()}
		if c.Host != "" {
			c.host = hostPattern(c.Host)
		}
		if c.Path != "" {
			if !strings.HasPrefix(c.Path, "/") {
				return nil, fmt.Errorf("forward_auth.rules[%d].path %q must start with /", i, c.Path)
			}
			c.path = pathPattern(c.Path)
		}
		if !slices.Contains([]string{Bypass, OneFactor, TwoFactor, Deny}, c.Policy) {
			return nil, fmt.Errorf("forward_auth.rules[%d].policy %q is not bypass, one_factor, two_factor or deny", i, c.Policy)
		}
		out.list = append(out.list, c)
	}
	return out, nil
}

func hostPattern(h string) *regexp.Regexp {
	if rest, ok := strings.CutPrefix(h, "*."); ok {
		return regexp.MustCompile(`^(?:[a-z0-9-]+\.)+` + regexp.QuoteMeta(rest) + `$`)
	}
	return regexp.MustCompile(`^` + regexp.QuoteMeta(h) + `$`)
}

func pathPattern(p string) *regexp.Regexp {
	parts := strings.Split(p, "*")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile(`^` + strings.Join(parts, `.*`) + `$`)
}

// Match returns the first rule that matches, or the default.
func (rs *Rules) Match(method, host, path string) Rule {
	host = strings.ToLower(host)
	for _, r := range rs.list {
		if r.host != nil && !r.host.MatchString(host) {
			continue
		}
		if r.path != nil && !r.path.MatchString(path) {
			continue
		}
		if len(r.Methods) > 0 && !slices.Contains(r.Methods, method) {
			continue
		}
		return r
	}
	return rs.def
}

// Covers reports whether host is named by a rule's host pattern: the hosts
// a sign-in may return to. Rules without a host (path only) do not count,
// or any host would.
func (rs *Rules) Covers(host string) bool {
	host = strings.ToLower(host)
	if slices.Contains(rs.cover, host) {
		return true
	}
	for _, r := range rs.list {
		if r.host != nil && r.host.MatchString(host) {
			return true
		}
	}
	return false
}

// Cover makes hosts (exact names: the built-in proxy's upstreams) return
// targets, as a rule naming them would; the default policy judges them
// when no rule does.
func (rs *Rules) Cover(hosts ...string) {
	for _, h := range hosts {
		rs.cover = append(rs.cover, strings.ToLower(h))
	}
}

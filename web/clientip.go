package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

type clientIPKey struct{}

// ParseTrustedProxies parses the trusted_proxies setting: each entry is an IP
// address (a single host) or a CIDR prefix. The error names the first bad
// entry.
func ParseTrustedProxies(entries []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(entries))
	for _, e := range entries {
		p, err := parseTrusted(strings.TrimSpace(e))
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: not an IP address or CIDR prefix", e)
		}
		out = append(out, p)
	}
	return out, nil
}

func parseTrusted(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return unmapPrefix(p).Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a.Zone() != "" {
		return netip.Prefix{}, errors.New("zoned address") // peers are compared without zones
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// unmapPrefix turns ::ffff:10.0.0.0/104 into 10.0.0.0/8, because client
// addresses are unmapped before they are compared.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if !p.Addr().Is4In6() || p.Bits() < 96 {
		return p
	}
	return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
}

// ResolveClientIP returns middleware that works out the client's address and
// stores it for [ClientIP]. The connection's peer is the client unless the
// peer is a trusted proxy; only then are X-Forwarded-For and X-Real-IP read,
// so nobody else can choose the address that rate limits and audit events
// record.
func ResolveClientIP(trusted []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			peer := peerAddr(r)
			viaProxy := isTrusted(peer, trusted)
			c := client{addr: peer, viaProxy: viaProxy}
			if viaProxy {
				c.addr = forwardedAddr(r, peer, trusted)
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientIPKey{}, c)))
		})
	}
}

// ClientIP returns the client address ResolveClientIP found, or the
// connection's peer address when the middleware did not run.
func ClientIP(r *http.Request) string {
	if a := ClientAddr(r); a.IsValid() {
		return a.String()
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ClientAddr is ClientIP as a netip.Addr, for grouping (e.g. by /64). It is
// invalid when the peer address could not be parsed.
func ClientAddr(r *http.Request) netip.Addr {
	if c, ok := r.Context().Value(clientIPKey{}).(client); ok {
		return c.addr
	}
	return peerAddr(r)
}

// client is what ResolveClientIP found about a request.
type client struct {
	addr     netip.Addr
	viaProxy bool // the connection's peer is a trusted proxy
}

// FromTrustedProxy reports whether the request's connection comes from one
// of trusted_proxies, so that headers a proxy sets about the original
// request (X-Forwarded-*, X-Original-*) may be believed. It is false when
// ResolveClientIP did not run.
func FromTrustedProxy(r *http.Request) bool {
	c, ok := r.Context().Value(clientIPKey{}).(client)
	return ok && c.viaProxy
}

// forwardedAddr is the client's address of a request whose peer is a
// trusted proxy: X-Forwarded-For, else X-Real-IP, else the peer. Header
// names are written canonically, which spares Get a copy.
func forwardedAddr(r *http.Request, peer netip.Addr, trusted []netip.Prefix) netip.Addr {
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		return fromForwardedFor(xff, peer, trusted)
	}
	if v := r.Header.Get("X-Real-Ip"); v != "" {
		if a, ok := parseHop(v); ok {
			return a
		}
	}
	return peer
}

// fromForwardedFor walks X-Forwarded-For from the right. Each proxy appends
// the address it received from, so the rightmost untrusted entry is the
// client and anything left of it is the client's own claim. A malformed entry
// ends the walk; then, as when every entry is trusted, the client is the last
// address we could identify.
func fromForwardedFor(values []string, peer netip.Addr, trusted []netip.Prefix) netip.Addr {
	hops := strings.Split(strings.Join(values, ","), ",")
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break
		}
		client = a
		if !isTrusted(a, trusted) {
			break
		}
	}
	return client
}

// parseHop reads one forwarded address, allowing the port some proxies add
// ("203.0.113.7:4711", "[2001:db8::1]:443").
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

func peerAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap().WithZone("")
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

package web

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies([]string{"10.0.0.1", " 192.168.0.0/16 ", "10.1.2.3/8", "::1", "fd00::/8", "::ffff:172.16.0.0/108"})
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.1/32"),
		netip.MustParsePrefix("192.168.0.0/16"),
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("fd00::/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestParseTrustedProxiesNamesTheBadEntry(t *testing.T) {
	for _, bad := range []string{"10.0.0.300", "10.0.0.0/33", "proxy.example.com", "", "fe80::1%eth0"} {
		_, err := ParseTrustedProxies([]string{"10.0.0.1", bad})
		if err == nil {
			t.Errorf("%q: no error", bad)
			continue
		}
		if !strings.Contains(err.Error(), `"`+bad+`"`) {
			t.Errorf("%q: error %q does not name the entry", bad, err)
		}
	}
}

func TestClientIP(t *testing.T) {
	trusted, err := ParseTrustedProxies([]string{"10.0.0.0/8", "2001:db8:ffff::/48"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		remote string
		xff    []string
		realIP string
		want   string
	}{
		{name: "direct client", remote: "203.0.113.7:5000", want: "203.0.113.7"},
		{name: "direct client spoofs X-Forwarded-For", remote: "203.0.113.7:5000", xff: []string{"198.51.100.1"}, want: "203.0.113.7"},
		{name: "direct client spoofs X-Real-IP", remote: "203.0.113.7:5000", realIP: "198.51.100.1", want: "203.0.113.7"},
		{name: "direct client claims a trusted address", remote: "203.0.113.7:5000", xff: []string{"10.0.0.9"}, want: "203.0.113.7"},
		{name: "via trusted proxy", remote: "10.0.0.2:443", xff: []string{"203.0.113.7"}, want: "203.0.113.7"},
		{name: "client prepends a fake hop", remote: "10.0.0.2:443", xff: []string{"198.51.100.1, 203.0.113.7"}, want: "203.0.113.7"},
		{name: "client prepends a trusted-looking hop", remote: "10.0.0.2:443", xff: []string{"10.9.9.9, 203.0.113.7"}, want: "203.0.113.7"},
		{name: "two trusted proxies", remote: "10.0.0.2:443", xff: []string{"198.51.100.1, 203.0.113.7, 10.0.0.5"}, want: "203.0.113.7"},
		{name: "hops split over header lines", remote: "10.0.0.2:443", xff: []string{"198.51.100.1", "203.0.113.7", "10.0.0.5"}, want: "203.0.113.7"},
		{name: "every hop trusted", remote: "10.0.0.2:443", xff: []string{"10.0.0.7, 10.0.0.5"}, want: "10.0.0.7"},
		{name: "malformed hop ends the walk", remote: "10.0.0.2:443", xff: []string{"203.0.113.7, bogus, 10.0.0.5"}, want: "10.0.0.5"},
		{name: "malformed rightmost hop", remote: "10.0.0.2:443", xff: []string{"bogus"}, want: "10.0.0.2"},
		{name: "hop with port", remote: "10.0.0.2:443", xff: []string{"203.0.113.7:4711"}, want: "203.0.113.7"},
		{name: "ipv6 hop with port", remote: "10.0.0.2:443", xff: []string{"[2001:db8::1]:443"}, want: "2001:db8::1"},
		{name: "ipv6 proxy", remote: "[2001:db8:ffff::2]:443", xff: []string{"2001:db8:1::7"}, want: "2001:db8:1::7"},
		{name: "mapped ipv4 peer is trusted", remote: "[::ffff:10.0.0.2]:443", xff: []string{"203.0.113.7"}, want: "203.0.113.7"},
		{name: "mapped ipv4 hop", remote: "10.0.0.2:443", xff: []string{"::ffff:203.0.113.7"}, want: "203.0.113.7"},
		{name: "X-Real-IP from trusted proxy", remote: "10.0.0.2:443", realIP: "203.0.113.7", want: "203.0.113.7"},
		{name: "X-Real-IP ignored beside X-Forwarded-For", remote: "10.0.0.2:443", xff: []string{"203.0.113.7"}, realIP: "198.51.100.1", want: "203.0.113.7"},
		{name: "malformed X-Real-IP", remote: "10.0.0.2:443", realIP: "nope", want: "10.0.0.2"},
		{name: "trusted proxy without headers", remote: "10.0.0.2:443", want: "10.0.0.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if tt.realIP != "" {
				r.Header.Set("X-Real-IP", tt.realIP)
			}
			var got string
			h := ResolveClientIP(trusted)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = ClientIP(r)
			}))
			serve(h, r)
			if got != tt.want {
				t.Fatalf("ClientIP = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestClientIPWithoutMiddlewareIsThePeer(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "203.0.113.7:5000"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	if got := ClientIP(r); got != "203.0.113.7" {
		t.Fatalf("ClientIP = %q, want the peer", got)
	}
}

func TestFromTrustedProxy(t *testing.T) {
	mw := ResolveClientIP([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	for peer, want := range map[string]bool{"10.1.2.3:5000": true, "192.0.2.1:5000": false, "[::1]:5000": false} {
		var got bool
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = peer
		r.Header.Set("X-Forwarded-For", "10.9.9.9")
		mw(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = FromTrustedProxy(r) })).ServeHTTP(httptest.NewRecorder(), r)
		if got != want {
			t.Errorf("peer %s: FromTrustedProxy = %v, want %v", peer, got, want)
		}
	}
	if FromTrustedProxy(httptest.NewRequest("GET", "/", nil)) {
		t.Error("without the middleware a request claims a trusted proxy")
	}
}

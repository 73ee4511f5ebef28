package redis

import (
	"crypto/tls"
	"reflect"
	"strings"
	"testing"
	"time"
)

// parsed is the part of a config the URL table checks.
type parsed struct {
	Kind          string
	Addrs         []string
	DB            int
	Master        string
	User, Pass    string
	SentinelUser  string
	SentinelPass  string
	TLS           bool
	Prefix        string
	Dial, Read    time.Duration
	DialerRetries int
}

func summarize(c *config) parsed {
	switch {
	case c.failover != nil:
		o := c.failover
		return parsed{"sentinel", o.SentinelAddrs, o.DB, o.MasterName, o.Username, o.Password,
			o.SentinelUsername, o.SentinelPassword, o.TLSConfig != nil, c.prefix,
			o.DialTimeout, o.ReadTimeout, o.DialerRetries}
	case c.cluster != nil:
		o := c.cluster
		return parsed{"cluster", o.Addrs, 0, "", o.Username, o.Password, "", "",
			o.TLSConfig != nil, c.prefix, o.DialTimeout, o.ReadTimeout, o.DialerRetries}
	default:
		o := c.single
		return parsed{"single", []string{o.Addr}, o.DB, "", o.Username, o.Password, "", "",
			o.TLSConfig != nil, c.prefix, o.DialTimeout, o.ReadTimeout, o.DialerRetries}
	}
}

// fast fills in the defaults every form gets unless the URL says otherwise.
func fast(p parsed) parsed {
	if p.Prefix == "" {
		p.Prefix = DefaultPrefix
	}
	if p.Dial == 0 {
		p.Dial = dialTimeout
	}
	if p.Read == 0 {
		p.Read = ioTimeout
	}
	p.DialerRetries = dialerRetries
	return p
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		url  string
		want parsed
	}{
		{"redis://127.0.0.1:6379/15", fast(parsed{Kind: "single", Addrs: []string{"127.0.0.1:6379"}, DB: 15})},
		{"redis://redis", fast(parsed{Kind: "single", Addrs: []string{"redis:6379"}})},
		{"redis://:s3cret@redis:6380/2", fast(parsed{Kind: "single", Addrs: []string{"redis:6380"}, DB: 2, Pass: "s3cret"})},
		{"redis://gw:p%40ss@redis/1", fast(parsed{Kind: "single", Addrs: []string{"redis:6379"}, DB: 1, User: "gw", Pass: "p@ss"})},
		{"rediss://gw:pw@redis.example.com:6380/0", fast(parsed{Kind: "single", Addrs: []string{"redis.example.com:6380"}, User: "gw", Pass: "pw", TLS: true})},
		{"redis://[::1]:6380/3", fast(parsed{Kind: "single", Addrs: []string{"[::1]:6380"}, DB: 3})},
		{"redis://redis/0?prefix=gw1:&dial_timeout=3s&read_timeout=500ms",
			fast(parsed{Kind: "single", Addrs: []string{"redis:6379"}, Prefix: "gw1:", Dial: 3 * time.Second, Read: 500 * time.Millisecond})},
		{"unix:///run/redis.sock?db=4", fast(parsed{Kind: "single", Addrs: []string{"/run/redis.sock"}, DB: 4})},
		{"redis-sentinel://:pw@s1:26379,s2:26380,s3/2?master=mymaster",
			fast(parsed{Kind: "sentinel", Addrs: []string{"s1:26379", "s2:26380", "s3:26379"}, DB: 2, Master: "mymaster", Pass: "pw"})},
		{"redis-sentinel://s1?master=m&sentinel_password=spw&sentinel_username=su",
			fast(parsed{Kind: "sentinel", Addrs: []string{"s1:26379"}, Master: "m", SentinelUser: "su", SentinelPass: "spw"})},
		{"rediss-sentinel://gw:pw@[::1],[::2]:26380?master=m&prefix=x:",
			fast(parsed{Kind: "sentinel", Addrs: []string{"[::1]:26379", "[::2]:26380"}, Master: "m", User: "gw", Pass: "pw", TLS: true, Prefix: "x:"})},
		{"redis-cluster://n1:7000,n2:7001,n3:7002",
			fast(parsed{Kind: "cluster", Addrs: []string{"n1:7000", "n2:7001", "n3:7002"}})},
		{"rediss-cluster://gw:pw@n1,n2/?read_timeout=2",
			fast(parsed{Kind: "cluster", Addrs: []string{"n1:6379", "n2:6379"}, User: "gw", Pass: "pw", TLS: true, Read: 2 * time.Second})},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			cfg, err := parseURL(tc.url)
			if err != nil {
				t.Fatalf("parseURL: %v", err)
			}
			if got := summarize(cfg); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestParseURLTLSPerHost checks that where there are several hosts each is
// verified under its own name, not the first one's.
func TestParseURLTLSPerHost(t *testing.T) {
	tests := []struct{ url, serverName string }{
		{"rediss://r1", "r1"},
		{"rediss-sentinel://s1,s2?master=m", ""},
		{"rediss-cluster://n1,n2", ""},
	}
	for _, tc := range tests {
		cfg, err := parseURL(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		c := tlsOf(cfg)
		if c == nil || c.ServerName != tc.serverName || c.MinVersion < tls.VersionTLS12 {
			t.Errorf("%s: TLS config %+v, want ServerName %q, TLS 1.2 or later", tc.url, c, tc.serverName)
		}
	}
}

func tlsOf(c *config) *tls.Config {
	switch {
	case c.failover != nil:
		return c.failover.TLSConfig
	case c.cluster != nil:
		return c.cluster.TLSConfig
	default:
		return c.single.TLSConfig
	}
}

func TestParseURLErrors(t *testing.T) {
	tests := []struct{ url, want string }{
		{"", "want scheme://host"},
		{"127.0.0.1:6379", "want scheme://host"},
		{"http://redis:6379", `unsupported scheme "http"`},
		{"redis://a:6379,b:6379", "several addresses: use redis-sentinel:// or redis-cluster://"},
		{"redis://a:6379?addr=b:6379", "several addresses"},
		{"redis://redis/notanumber", "invalid database number"},
		{"redis://redis/0?bogus=1", "unexpected option: bogus"},
		{"redis://redis/0?prefix=", "prefix is empty"},
		{"redis://:secretpw@redis:port/0", "invalid port"},
		{"redis-sentinel://s1,s2/0", "needs ?master=NAME"},
		{"redis-sentinel://s1,:26379?master=m", `address ":26379": want host:port`},
		{"redis-sentinel://s1:99999?master=m", `address "s1:99999": want host:port`},
		{"redis-sentinel://s1,::1?master=m", `address "::1"`},
		{"redis-cluster://n1,n2/3", "takes no database number"},
		{"redis-cluster://n1,n2?master=m", "unexpected option: master"},
		{"redis-cluster://,n2", `address "": want host:port`},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			_, err := parseURL(tc.url)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "session/redis: URL: ") {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secretpw") {
				t.Errorf("error %q repeats the password", err)
			}
		})
	}
}

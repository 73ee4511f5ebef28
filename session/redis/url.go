package redis

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// DefaultPrefix namespaces every key the Store writes.
const DefaultPrefix = "portcullis:"

// Timeouts a URL leaves unset. go-redis waits 5s to dial and to read and
// tries 5 dials per attempt, so a dead Redis would hang each request for
// many seconds; a session lookup should fail within about a second instead
// and let the caller answer 503.
const (
	dialTimeout   = time.Second
	ioTimeout     = time.Second
	dialerRetries = 1
	maxRetries    = 1 // one retry, for a pooled connection a restart has cut
)

// config is what a URL describes: the options of one of the three client
// kinds, and the key prefix.
type config struct {
	prefix   string
	single   *goredis.Options
	failover *goredis.FailoverOptions
	cluster  *goredis.ClusterOptions
}

// parseURL reads the URL forms documented on New.
func parseURL(raw string) (*config, error) {
	cfg, err := parse(raw)
	if err != nil {
		return nil, fmt.Errorf("session/redis: URL: %w", err)
	}
	return cfg, nil
}

func parse(raw string) (*config, error) {
	u, hosts, err := splitURL(raw)
	if err != nil {
		return nil, err
	}
	cfg := &config{}
	if cfg.prefix, err = takePrefix(u); err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "redis", "rediss", "unix":
		cfg.single, err = parseSingle(u, hosts)
	case "redis-sentinel", "rediss-sentinel":
		cfg.failover, err = parseSentinel(u, hosts)
	case "redis-cluster", "rediss-cluster":
		cfg.cluster, err = parseCluster(u, hosts)
	default:
		err = fmt.Errorf("unsupported scheme %q: want redis, rediss, unix, "+
			"redis-sentinel, rediss-sentinel, redis-cluster or rediss-cluster", u.Scheme)
	}
	return cfg, err
}

// splitURL parses raw, whose host part may list several addresses separated
// by commas, which url.Parse alone either rejects (IPv6) or reads as one odd
// host. It returns the URL with only the first address, and all of them.
func splitURL(raw string) (*url.URL, []string, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || scheme == "" {
		return nil, nil, errors.New(`want scheme://host, e.g. redis://127.0.0.1:6379/0`)
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo, hostlist := "", authority
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userinfo, hostlist = authority[:i+1], authority[i+1:]
	}
	hosts := strings.Split(hostlist, ",")
	u, err := url.Parse(scheme + "://" + userinfo + hosts[0] + tail)
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		return nil, nil, ue.Err // url.Error would repeat the URL, password and all
	}
	return u, hosts, err
}

// takePrefix removes the prefix parameter, which go-redis does not know,
// and returns its value or the default.
func takePrefix(u *url.URL) (string, error) {
	q := u.Query()
	if !q.Has("prefix") {
		return DefaultPrefix, nil
	}
	p := q.Get("prefix")
	if p == "" {
		return "", errors.New("prefix is empty")
	}
	q.Del("prefix")
	u.RawQuery = q.Encode()
	return p, nil
}

func parseSingle(u *url.URL, hosts []string) (*goredis.Options, error) {
	if len(hosts) > 1 || u.Query().Has("addr") {
		return nil, errors.New("several addresses: use redis-sentinel:// or redis-cluster://")
	}
	o, err := goredis.ParseURL(u.String())
	if err != nil {
		return nil, err
	}
	fastFail(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.DialerRetries)
	setDefault(&o.MaxRetries, maxRetries)
	o.ContextTimeoutEnabled = true
	return o, nil
}

// parseSentinel maps our form onto the one goredis.ParseFailoverURL reads,
// where the user info authenticates to the sentinels and the Redis
// credentials travel as parameters.
func parseSentinel(u *url.URL, hosts []string) (*goredis.FailoverOptions, error) {
	q := u.Query()
	master := q.Get("master")
	if master == "" {
		return nil, errors.New("redis-sentinel URL needs ?master=NAME")
	}
	addrs, err := addresses(hosts, "26379")
	if err != nil {
		return nil, err
	}
	q.Del("master")
	q.Set("master_name", master)
	moveCredentials(u.User, q)
	sentinelUser := takeSentinelUser(q)
	for _, a := range addrs[1:] {
		q.Add("addr", a)
	}
	fu := url.URL{Scheme: strings.TrimSuffix(u.Scheme, "-sentinel"), User: sentinelUser,
		Host: addrs[0], Path: u.Path, RawQuery: q.Encode()}
	o, err := goredis.ParseFailoverURL(fu.String())
	if err != nil {
		return nil, err
	}
	perHostTLS(o.TLSConfig)
	fastFail(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.DialerRetries)
	setDefault(&o.MaxRetries, maxRetries)
	o.ContextTimeoutEnabled = true
	return o, nil
}

// parseCluster maps our form onto the one goredis.ParseClusterURL reads.
func parseCluster(u *url.URL, hosts []string) (*goredis.ClusterOptions, error) {
	if strings.Trim(u.Path, "/") != "" {
		return nil, errors.New("redis-cluster URL takes no database number: a cluster has only database 0")
	}
	addrs, err := addresses(hosts, "6379")
	if err != nil {
		return nil, err
	}
	q := u.Query()
	for _, a := range addrs[1:] {
		q.Add("addr", a)
	}
	cu := url.URL{Scheme: strings.TrimSuffix(u.Scheme, "-cluster"), User: u.User,
		Host: addrs[0], RawQuery: q.Encode()}
	o, err := goredis.ParseClusterURL(cu.String())
	if err != nil {
		return nil, err
	}
	perHostTLS(o.TLSConfig)
	// MaxRetries is left alone: a cluster retries by following redirects.
	fastFail(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.DialerRetries)
	o.ContextTimeoutEnabled = true
	return o, nil
}

// perHostTLS makes each TLS connection verify the certificate of the host
// it dials. The go-redis parsers set ServerName to the first address, which
// would check every other node against that name.
func perHostTLS(c *tls.Config) {
	if c != nil {
		c.ServerName = ""
		c.MinVersion = max(c.MinVersion, tls.VersionTLS12)
	}
}

func moveCredentials(user *url.Userinfo, q url.Values) {
	if user == nil {
		return
	}
	if name := user.Username(); name != "" {
		q.Set("username", name)
	}
	if pass, ok := user.Password(); ok {
		q.Set("password", pass)
	}
}

func takeSentinelUser(q url.Values) *url.Userinfo {
	name, pass := q.Get("sentinel_username"), q.Get("sentinel_password")
	q.Del("sentinel_username")
	q.Del("sentinel_password")
	switch {
	case pass != "":
		return url.UserPassword(name, pass)
	case name != "":
		return url.User(name)
	}
	return nil
}

// addresses checks each host[:port] and adds the default port where missing.
func addresses(hosts []string, defaultPort string) ([]string, error) {
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		a, err := address(h, defaultPort)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func address(h, defaultPort string) (string, error) {
	host, port := strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), defaultPort
	if strings.Contains(h, "]:") || (!strings.HasPrefix(h, "[") && strings.Contains(h, ":")) {
		var err error
		if host, port, err = net.SplitHostPort(h); err != nil {
			return "", fmt.Errorf("address %q: %w", h, err)
		}
	}
	if n, err := strconv.Atoi(port); host == "" || err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("address %q: want host:port", h)
	}
	return net.JoinHostPort(host, port), nil
}

// fastFail fills in the timeouts a URL left unset (zero; -1 means "none").
func fastFail(dial, read, write *time.Duration, dialer *int) {
	setDefault(dial, dialTimeout)
	setDefault(read, ioTimeout)
	setDefault(write, ioTimeout)
	setDefault(dialer, dialerRetries)
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

// client opens the client cfg describes. go-redis dials lazily and redials
// by itself, so a Redis that comes back is used again without a restart.
func (cfg *config) client() goredis.UniversalClient {
	switch {
	case cfg.failover != nil:
		return goredis.NewFailoverClient(cfg.failover)
	case cfg.cluster != nil:
		return goredis.NewClusterClient(cfg.cluster)
	default:
		return goredis.NewClient(cfg.single)
	}
}

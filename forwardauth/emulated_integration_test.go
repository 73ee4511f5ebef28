package forwardauth_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// Traefik and Envoy are not packaged in Debian, so the gateway is tested
// behind emulations of their forward-auth contracts, written from their
// documentation and source: Traefik's ForwardAuth middleware
// (pkg/middlewares/auth/forward.go) and Envoy's ext_authz filter in HTTP
// service mode. Each takes its settings from the configuration
// docs/forward-auth.md shows (testdata/traefik.yml.tmpl,
// testdata/envoy.yaml.tmpl), rendered with the test's addresses, so a
// wrong path, header list or address there fails here.

// hopHeaders are the hop-by-hop headers proxies drop (RFC 9110 §7.6.1).
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// traefikForwardAuth is Traefik's ForwardAuth middleware with
// trustForwardHeader false: a GET to address with the client's headers
// (minus hop-by-hop ones) and X-Forwarded-For/-Method/-Proto/-Host/-Uri of
// its own; a 2xx answer copies authResponseHeaders onto the request
// (removing the client's first) and goes on, any other answer goes to the
// client as is: status, headers and body.
type traefikForwardAuth struct {
	address         string
	responseHeaders []string
	next            http.Handler
}

func (f *traefikForwardAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	check, err := http.NewRequestWithContext(r.Context(), http.MethodGet, f.address, nil)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	check.Header = r.Header.Clone()
	for _, h := range hopHeaders {
		check.Header.Del(h)
	}
	peer, _, _ := net.SplitHostPort(r.RemoteAddr)
	check.Header.Set("X-Forwarded-For", peer)
	check.Header.Set("X-Forwarded-Method", r.Method)
	check.Header.Set("X-Forwarded-Proto", map[bool]string{false: "http", true: "https"}[r.TLS != nil])
	check.Header.Set("X-Forwarded-Host", r.Host)
	check.Header.Set("X-Forwarded-Uri", r.URL.RequestURI())
	resp, err := noRedirects.Do(check)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		for k, v := range resp.Header {
			if !slices.Contains(hopHeaders, k) {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
		return
	}
	for _, name := range f.responseHeaders {
		k := http.CanonicalHeaderKey(name)
		r.Header.Del(k)
		if vals := resp.Header[k]; len(vals) > 0 {
			r.Header[k] = slices.Clone(vals)
		}
	}
	f.next.ServeHTTP(w, r)
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// envoyExtAuthz is Envoy's HTTP connection manager (use_remote_address:
// X-Forwarded-For gets the peer appended, X-Forwarded-Proto is the
// listener's scheme) with the ext_authz filter in HTTP service mode: the
// check is the original method, to path_prefix + the original path and
// query, Host the original authority, carrying only allowed_headers
// (Authorization always), no body. 200 copies the allowed_upstream_headers
// of the answer onto the request, replacing the client's, and goes on; any
// other status goes to the client with the answer's body and its
// allowed_client_headers (Location, WWW-Authenticate always).
type envoyExtAuthz struct {
	server   string // http://address:port of the service's cluster
	prefix   string
	request  []string // lower case
	upstream []string
	client   []string
	next     http.Handler
}

func (e *envoyExtAuthz) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	peer, _, _ := net.SplitHostPort(r.RemoteAddr)
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		peer = xff + "," + peer
	}
	r.Header.Set("X-Forwarded-For", peer)
	r.Header.Set("X-Forwarded-Proto", "http")
	check, err := http.NewRequestWithContext(r.Context(), r.Method, e.server+e.prefix+r.URL.RequestURI(), nil)
	if err != nil {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	check.Host = r.Host
	for k, v := range r.Header {
		if k == "Authorization" || slices.Contains(e.request, strings.ToLower(k)) {
			check.Header[k] = v
		}
	}
	resp, err := noRedirects.Do(check)
	if err != nil {
		w.WriteHeader(http.StatusForbidden) // status_on_error
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		for k, v := range resp.Header {
			if k == "Location" || k == "Www-Authenticate" || slices.Contains(e.client, strings.ToLower(k)) {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
		return
	}
	for k, v := range resp.Header {
		if slices.Contains(e.upstream, strings.ToLower(k)) {
			r.Header[k] = v
		}
	}
	e.next.ServeHTTP(w, r)
}

// toApp is the proxy's last hop: the request, Host kept, to the app.
func toApp(t *testing.T, app string) http.Handler {
	u, err := url.Parse(app)
	if err != nil {
		t.Fatal(err)
	}
	return &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		r.Out.Host = r.In.Host
	}}
}

// serve runs h on loopback and returns the app's URL through it.
func serve(t *testing.T, st *stack, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	return "http://" + st.site.AppHost + ":" + port
}

// dig walks a decoded YAML document by map keys and list indexes.
func dig(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("configuration: no %q in %v", k, v)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("configuration: no item %d in %v", k, v)
			}
			v = l[k]
		}
	}
	return v
}

func str(t *testing.T, v any, path ...any) string {
	t.Helper()
	s, ok := dig(t, v, path...).(string)
	if !ok {
		t.Fatalf("configuration: %v is not a string", path)
	}
	return s
}

func renderYAML(t *testing.T, name string, s site) any {
	t.Helper()
	var doc any
	if err := yaml.Unmarshal([]byte(render(t, name, s)), &doc); err != nil {
		t.Fatalf("testdata/%s.tmpl: %v", name, err)
	}
	return doc
}

// startTraefik configures the Traefik emulation from testdata/traefik.yml
// and returns the app's URL through it.
func startTraefik(t *testing.T, st *stack) string {
	doc := renderYAML(t, "traefik.yml", st.site)
	router := dig(t, doc, "http", "routers", "app")
	if rule := str(t, router, "rule"); rule != "Host(`"+st.site.AppHost+"`)" {
		t.Fatalf("the router's rule is %s", rule)
	}
	mw := dig(t, doc, "http", "middlewares", str(t, router, "middlewares", 0), "forwardAuth")
	if trust, _ := dig(t, mw, "trustForwardHeader").(bool); trust {
		t.Fatal("the emulation has Traefik's trustForwardHeader: false only")
	}
	f := &traefikForwardAuth{address: str(t, mw, "address"),
		next: toApp(t, str(t, doc, "http", "services", str(t, router, "service"), "loadBalancer", "servers", 0, "url"))}
	for _, h := range dig(t, mw, "authResponseHeaders").([]any) {
		f.responseHeaders = append(f.responseHeaders, h.(string))
	}
	return serve(t, st, f)
}

// startEnvoy configures the Envoy emulation from testdata/envoy.yaml and
// returns the app's URL through it.
func startEnvoy(t *testing.T, st *stack) string {
	doc := renderYAML(t, "envoy.yaml", st.site)
	hcm := dig(t, doc, "static_resources", "listeners", 0, "filter_chains", 0, "filters", 0, "typed_config")
	filters := dig(t, hcm, "http_filters").([]any)
	if len(filters) != 2 || str(t, filters[0], "name") != "envoy.filters.http.ext_authz" ||
		str(t, filters[1], "name") != "envoy.filters.http.router" {
		t.Fatalf("http_filters are not ext_authz then router: %v", filters)
	}
	if allow, _ := dig(t, filters[0], "typed_config", "failure_mode_allow").(bool); allow {
		t.Fatal("failure_mode_allow lets requests through when the gateway is down")
	}
	svc := dig(t, filters[0], "typed_config", "http_service")
	route := dig(t, hcm, "route_config", "virtual_hosts", 0, "routes", 0, "route")
	e := &envoyExtAuthz{server: cluster(t, doc, str(t, svc, "server_uri", "cluster")), prefix: str(t, svc, "path_prefix"),
		request:  patterns(t, svc, "authorization_request", "allowed_headers"),
		upstream: patterns(t, svc, "authorization_response", "allowed_upstream_headers"),
		client:   patterns(t, svc, "authorization_response", "allowed_client_headers"),
		next:     toApp(t, cluster(t, doc, str(t, route, "cluster")))}
	return serve(t, st, e)
}

// cluster is the http:// address of a static cluster's first endpoint.
func cluster(t *testing.T, doc any, name string) string {
	t.Helper()
	for _, c := range dig(t, doc, "static_resources", "clusters").([]any) {
		if str(t, c, "name") == name {
			sa := dig(t, c, "load_assignment", "endpoints", 0, "lb_endpoints", 0, "endpoint", "address", "socket_address")
			port, _ := dig(t, sa, "port_value").(int)
			return "http://" + net.JoinHostPort(str(t, sa, "address"), strconv.Itoa(port))
		}
	}
	t.Fatalf("no cluster %q", name)
	return ""
}

// patterns is the exact names of a ListStringMatcher, lower case.
func patterns(t *testing.T, v any, path ...any) []string {
	t.Helper()
	var out []string
	for _, p := range dig(t, v, append(path, "patterns")...).([]any) {
		out = append(out, strings.ToLower(str(t, p, "exact")))
	}
	return out
}

// Brokering (issue 5) end to end: one gateway signs its users in through
// another, registered as an upstream IdP, while the other has the first's
// SP registered as an app.
//
// Decisions:
//   - Registration goes through internal/catalog, as `gateway idps add` and
//     `gateway apps add` do, from the peer's metadata URL: the tests then
//     cover what an operator's commands write, not a hand-made row.
//   - Two gateways on one machine must not share cookies. Cookies are
//     scoped by host, not port (RFC 6265 §8.5), and both gateways use the
//     same names (portcullis_session, portcullis_slo, portcullis_csrf), so
//     StartUpstream runs the upstream gateway as http://localhost:PORT and
//     with its own session cookie name: an HTTP Client keeps the two apart,
//     as browsers do for two production hosts. A browser test, where
//     localhost and 127.0.0.1 are two sites and SameSite=Lax withholds the
//     SP's cookie from the IdP's cross-site POST, starts both on 127.0.0.1
//     instead (Start with UpstreamCookie), which is enough for sign-in.
//   - A SAML cluster has one base URL: the SP entity ID, the ACS URL that
//     upstream Responses are addressed to (Destination, Recipient) and the
//     Audience are the cluster's. StartCluster gives each node its own
//     base URL, so StartBalanced puts the nodes behind one balancer address
//     instead; a Response can then be presented to any node, as behind a
//     production load balancer.

package testenv

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/internal/catalog"
	"github.com/portcullis/portcullis/sp"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web/webtest"
)

// Paths of a gateway's SAML metadata documents.
const (
	IdPMetadataPath = idp.MetadataPath
	SPMetadataPath  = sp.MetadataPath
)

// UpstreamCookie gives a gateway acting as upstream IdP a session cookie
// name of its own, so that it does not overwrite the broker's session
// cookie on the same host.
func UpstreamCookie(c *config.Config) { c.Sessions.CookieName = "portcullis_upstream_session" }

// StartUpstream runs one node, like Start, to act as another gateway's
// upstream IdP: at http://localhost:PORT and with UpstreamCookie, so its
// cookies stay apart from those of a broker on 127.0.0.1.
func StartUpstream(t testing.TB, opts ...Option) *Env {
	t.Helper()
	cfg := Base(t)
	UpstreamCookie(&cfg)
	for _, o := range opts {
		o(&cfg)
	}
	return startOn(t, cfg, 1, "localhost")
}

// catalogue is the catalogue of the environment's store, acting as the CLI.
func (e *Env) catalogue() *catalog.Catalog {
	return &catalog.Catalog{Store: e.Nodes[0].Server.Store, Actor: "cli"}
}

// RegisterUpstream registers an upstream IdP called name from source: a
// metadata URL or file, as `gateway idps add` reads it, or the metadata
// XML itself (source starting with "<"), written with store.CreateIdP.
func (e *Env) RegisterUpstream(t testing.TB, name, source string, s sp.Settings) store.IdP {
	t.Helper()
	ctx := context.Background()
	if strings.HasPrefix(strings.TrimSpace(source), "<") {
		return e.createUpstream(t, name, source, s)
	}
	p, _, err := e.catalogue().AddIdP(ctx, name, source, s)
	if err != nil {
		t.Fatalf("testenv: register upstream IdP %s from %s: %v", name, source, err)
	}
	return p
}

// createUpstream writes an IdP row from its metadata XML.
func (e *Env) createUpstream(t testing.TB, name, xml string, s sp.Settings) store.IdP {
	t.Helper()
	u, err := sp.ParseMetadata([]byte(xml))
	if err != nil {
		t.Fatalf("testenv: upstream IdP %s: %v", name, err)
	}
	settings, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	p := store.IdP{Name: name, EntityID: u.EntityID, Metadata: xml, Settings: settings}
	if err := e.Nodes[0].Server.Store.CreateIdP(context.Background(), &p); err != nil {
		t.Fatalf("testenv: register upstream IdP %s: %v", name, err)
	}
	return p
}

// AddSAMLAppFromMetadata registers the SP whose metadata source names (a
// URL or file) as a SAML app called name with the MFA mode ("required",
// "optional", "off") and settings, usable by every user, as
// `gateway apps add` does.
func (e *Env) AddSAMLAppFromMetadata(t testing.TB, name, source, mfa string, settings idp.AppSettings) store.App {
	t.Helper()
	a, err := e.catalogue().Add(context.Background(), catalog.NewApp{Name: name, Source: source, MFA: mfa,
		Groups: []string{catalog.AllGroups}, Settings: settings})
	if err != nil {
		t.Fatalf("testenv: add app %s from %s: %v", name, source, err)
	}
	return a
}

// Chain joins two gateways for brokering: broker registers upstream's IdP
// metadata as the upstream IdP idpName with settings s, and upstream
// registers broker's SP metadata as the app appName with the MFA mode
// appMFA.
func Chain(t testing.TB, broker, upstream *Env, idpName string, s sp.Settings, appName, appMFA string) {
	t.Helper()
	upstream.AddSAMLAppFromMetadata(t, appName, broker.Nodes[0].URL+SPMetadataPath, appMFA, idp.AppSettings{})
	broker.RegisterUpstream(t, idpName, upstream.Nodes[0].URL+IdPMetadataPath, s)
}

// Balanced is a cluster behind one loopback address, as behind a load
// balancer.
type Balanced struct {
	*Env
	// Front is the balancer as a node: its URL is every node's base URL,
	// its Server the first node's (for the shared store). Nodes[i].URL
	// still reaches node i directly.
	Front *Node
	next  atomic.Uint64
}

// StartBalanced runs n nodes sharing PostgreSQL and Redis, as StartCluster
// does, whose base URL is that of a balancer sending requests to the nodes
// in turn. It needs GATEWAY_TEST_REDIS_URL and GATEWAY_TEST_POSTGRES_URL.
func StartBalanced(t testing.TB, n int, opts ...Option) *Balanced {
	t.Helper()
	cfg := clusterConfig(t, opts)
	b := &Balanced{Env: &Env{Config: cfg}}
	front := httptest.NewServer(&httputil.ReverseProxy{Rewrite: b.route})
	t.Cleanup(front.Close)
	cfg.BaseURL = front.URL
	b.Config = cfg
	if problems := cfg.Validate(); len(problems) > 0 {
		t.Fatalf("testenv: invalid config: %v", problems)
	}
	for i := range n {
		node := startNodeBehind(t, cfg)
		if i == 0 {
			b.AdminPassword = adminPassword(node.out.String())
		}
		b.Nodes = append(b.Nodes, node)
	}
	b.Front = &Node{Server: b.Nodes[0].Server, URL: front.URL, out: &webtest.LogBuffer{}}
	return b
}

// route sends a request to the next node, keeping the Host the browser
// asked for: the nodes see the cluster's address, as behind a proxy that
// preserves Host.
func (b *Balanced) route(pr *httputil.ProxyRequest) {
	node := b.Nodes[int(b.next.Add(1)-1)%len(b.Nodes)]
	u, _ := url.Parse(node.URL)
	pr.SetURL(u)
	pr.Out.Host = pr.In.Host
}

// startNodeBehind starts a node on a loopback port of its own whose base
// URL is cfg's.
func startNodeBehind(t testing.TB, cfg config.Config) *Node {
	t.Helper()
	ln := listen(t)
	return serve(t, cfg, ln, "http://"+ln.Addr().String())
}

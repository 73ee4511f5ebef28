package redis

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/session/sessiontest"
)

// busRedis is the real Redis the bus tests run on, and a key prefix of
// the test's own.
type busRedis struct {
	opt    *goredis.Options
	prefix string
}

func newBusRedis(t *testing.T) busRedis {
	t.Helper()
	opt, err := goredis.ParseURL(sessiontest.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	return busRedis{opt: opt, prefix: "portcullis-bustest:" + rand.Text()[:10] + ":"}
}

// store returns a Store whose client dials addr (Redis itself, or a proxy
// in front of it).
func (r busRedis) store(t *testing.T, addr string) *Store {
	t.Helper()
	opt := *r.opt
	opt.Addr = addr
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = time.Second, time.Second, time.Second
	c := goredis.NewClient(&opt)
	t.Cleanup(func() { c.Close() })
	return NewFromClient(c, r.prefix)
}

// recorder is a node's handler: it keeps the topics it hears, each after a
// pause, so that a writer that did not wait for it would be caught.
type recorder struct {
	mu     sync.Mutex
	topics []string
}

func (r *recorder) handle(topic string) {
	time.Sleep(20 * time.Millisecond)
	r.mu.Lock()
	r.topics = append(r.topics, topic)
	r.mu.Unlock()
}

func (r *recorder) heard(topic string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.topics, topic)
}

func (r *recorder) count(topic string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, t := range r.topics {
		if t == topic {
			n++
		}
	}
	return n
}

func startBus(t *testing.T, st *Store, o BusOptions) *Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := st.Bus(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// eventually waits up to 5s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func announce(t *testing.T, b *Bus, topic string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Announce(ctx, topic); err != nil {
		t.Fatalf("Announce(%q): %v", topic, err)
	}
}

// TestBusAnnounceReachesEveryNodeFirst: when Announce returns, every node
// has handled the topic, a node's own announcements included; a node
// trusts its copies once its lease is established, and each node dropped
// everything when it subscribed.
func TestBusAnnounceReachesEveryNodeFirst(t *testing.T) {
	r := newBusRedis(t)
	var ra, rb recorder
	a := startBus(t, r.store(t, r.opt.Addr), BusOptions{Handle: ra.handle})
	b := startBus(t, r.store(t, r.opt.Addr), BusOptions{Handle: rb.handle})
	writer := startBus(t, r.store(t, r.opt.Addr), BusOptions{})
	eventually(t, "both nodes trust their copies", func() bool { return a.Trusted() && b.Trusted() })
	if !ra.heard(session.AllTopic) || !rb.heard(session.AllTopic) {
		t.Error("a node did not drop everything when it subscribed")
	}
	if writer.Trusted() {
		t.Error("a writer without a handler claims a lease")
	}

	announce(t, writer, "k:s:one")
	if !ra.heard("k:s:one") || !rb.heard("k:s:one") {
		t.Fatalf("Announce returned before every node handled it: a %v, b %v", ra.topics, rb.topics)
	}
	announce(t, a, "u:7")
	if !ra.heard("u:7") || !rb.heard("u:7") {
		t.Fatalf("a node's own Announce returned before every node handled it: a %v, b %v", ra.topics, rb.topics)
	}
}

// TestBusWaitsOutASilentNode cuts a node off from Redis without closing
// its connection (a partition): the writer's Announce still returns, and
// by then the node no longer trusts its copies, though it never heard the
// announcement. Once the node has a connection again, it drops everything
// and regains its lease.
func TestBusWaitsOutASilentNode(t *testing.T) {
	r := newBusRedis(t)
	px := startTCPProxy(t, r.opt.Addr)
	var ra recorder
	a := startBus(t, r.store(t, px.addr()), BusOptions{Handle: ra.handle})
	writer := startBus(t, r.store(t, r.opt.Addr), BusOptions{})
	eventually(t, "the node trusts its copies", a.Trusted)
	flushes := ra.count(session.AllTopic)

	px.freeze()
	announce(t, writer, "k:s:unheard")
	if a.Trusted() {
		t.Fatal("Announce returned while a node that did not hear it still trusts its copies")
	}
	if ra.heard("k:s:unheard") {
		t.Fatal("the frozen connection delivered the announcement")
	}
	eventually(t, "the node resubscribes, drops everything and is trusted again", func() bool {
		return ra.count(session.AllTopic) > flushes && a.Trusted()
	})
}

// TestBusClosedConnectionEndsTheLeaseAtOnce: with a lease of an hour, only
// the loss of the connection can end it, and it does; the node drops
// everything when it is back.
func TestBusClosedConnectionEndsTheLeaseAtOnce(t *testing.T) {
	r := newBusRedis(t)
	px := startTCPProxy(t, r.opt.Addr)
	var ra recorder
	a := startBus(t, r.store(t, px.addr()), BusOptions{Handle: ra.handle, Lease: time.Hour})
	eventually(t, "the node trusts its copies", a.Trusted)
	flushes := ra.count(session.AllTopic)
	px.cut()
	eventually(t, "the node distrusts its copies", func() bool { return !a.Trusted() })
	eventually(t, "the node drops everything and is trusted again", func() bool {
		return ra.count(session.AllTopic) > flushes && a.Trusted()
	})
}

// TestBusCloseLeavesTheRegistry: a closed node is no longer waited for.
func TestBusCloseLeavesTheRegistry(t *testing.T) {
	r := newBusRedis(t)
	st := r.store(t, r.opt.Addr)
	var ra recorder
	a := startBus(t, st, BusOptions{Handle: ra.handle, Lease: time.Hour})
	eventually(t, "the node trusts its copies", a.Trusted)
	ctx := context.Background()
	if err := st.c.ZScore(ctx, r.prefix+"nodes", a.ID()).Err(); err != nil {
		t.Fatalf("the node is not registered: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if a.Trusted() {
		t.Error("a closed node trusts its copies")
	}
	if err := st.c.ZScore(ctx, r.prefix+"nodes", a.ID()).Err(); !errors.Is(err, goredis.Nil) {
		t.Errorf("a closed node is still registered (%v): writers would wait an hour for it", err)
	}
}

// TestBusAnnounceFailsWithoutRedis: Announce reports a Redis it cannot
// reach as unavailable.
func TestBusAnnounceFailsWithoutRedis(t *testing.T) {
	r := newBusRedis(t)
	px := startTCPProxy(t, r.opt.Addr)
	writer := startBus(t, r.store(t, px.addr()), BusOptions{})
	px.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := writer.Announce(ctx, session.AllTopic); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("Announce with Redis gone = %v, want ErrUnavailable", err)
	}
}

// tcpProxy forwards connections to a target, and can freeze them (drop
// everything, keep them open: a partition), cut them, or stop.
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	pairs  []*proxied
}

type proxied struct {
	a, b   net.Conn
	frozen atomic.Bool
}

func startTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target}
	go p.accept()
	t.Cleanup(p.stop)
	return p
}

func (p *tcpProxy) addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) accept() {
	for {
		a, err := p.ln.Accept()
		if err != nil {
			return
		}
		b, err := net.Dial("tcp", p.target)
		if err != nil {
			a.Close()
			continue
		}
		pr := &proxied{a: a, b: b}
		p.mu.Lock()
		p.pairs = append(p.pairs, pr)
		p.mu.Unlock()
		go pr.pump(a, b)
		go pr.pump(b, a)
	}
}

func (pr *proxied) pump(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !pr.frozen.Load() {
			if _, err := dst.Write(buf[:n]); err != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	if !pr.frozen.Load() {
		dst.Close()
		src.Close()
	}
}

// freeze drops everything on the connections open now, without closing
// them; new connections work.
func (p *tcpProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.pairs {
		pr.frozen.Store(true)
	}
}

// cut closes the connections open now.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.pairs {
		pr.a.Close()
		pr.b.Close()
	}
	p.pairs = nil
}

// stop refuses new connections and cuts the open ones.
func (p *tcpProxy) stop() {
	p.ln.Close()
	p.cut()
}

package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/portcullis/portcullis/session"
)

// The bus keeps copies that nodes hold in memory coherent with the writes
// of every process: each write is announced, and the writer goes on only
// once every node that may answer from memory has dropped what the write
// changed.
//
// The protocol, under the store's prefix:
//
//	bus             the channel writes are announced on: "WRITER SEQ TOPIC"
//	bus:ack:WRITER  a writer's channel for acknowledgements: "SEQ NODE"
//	nodes           the registry: a sorted set of nodes scored by the end of
//	                their registration, in Redis's clock (ms)
//
// A node subscribes to bus and, every Lease/5 (at most 100ms), renews its registration
// (one Lua script reading Redis's own TIME) and then sends PING on its
// subscription connection. Redis answers PING in order with the messages,
// so the PONG of a ping sent at time t proves that every announcement made
// before that ping has been handled: the node may then trust its copies
// until t+Lease. Its registration, renewed after t, lasts at least as long.
// When the connection breaks the node stops trusting them at once, and on
// every (re)subscription it drops them all, since announcements may have
// been lost in between.
//
// A writer publishes its announcement first and reads the registry after,
// then waits for an acknowledgement from each registered node, or for the
// end of that node's registration, whichever comes first. A node that was
// not registered when the writer looked can have no lease that predates the
// announcement: its next PONG comes after the announcement, which it
// handles first. A node that does not answer (crashed, cut off) has lost
// its lease by the end of its registration. So when Announce returns, no
// node answers from a copy older than the write.
//
// Announce fails only when Redis does; a node cut off from Redis is exactly
// one that stops answering from memory.

// DefaultLease is how long a node may answer from memory after the last
// proof that it has seen every announcement. It is also the longest a write
// waits for a node that has stopped answering, and the longest a node keeps
// answering from memory after Redis goes silent without closing the
// connection (a closed connection ends the lease at once).
const DefaultLease = 300 * time.Millisecond

// BusOptions configure a Bus.
type BusOptions struct {
	// Handle makes the process a node: it is called with the topic of every
	// announcement, in order, from one goroutine, before the
	// acknowledgement goes out, and with session.AllTopic ("*") whenever
	// the subscription (re)starts. Without it the process only announces
	// (the CLI).
	Handle func(topic string)
	Lease  time.Duration // default DefaultLease
	Logger *slog.Logger
}

// Bus announces writes and, for a node, keeps its lease. It is safe for
// concurrent use.
type Bus struct {
	c      goredis.UniversalClient
	id     string
	prefix string
	handle func(topic string)
	lease  time.Duration
	log    *slog.Logger

	base    time.Time    // the monotonic origin of trusted
	trusted atomic.Int64 // ns since base until which copies may be trusted

	mu sync.Mutex
	ps *goredis.PubSub // the current subscription, nil between two
	// conn counts subscriptions, so that a PONG that arrives on a new
	// connection for a ping sent on an old one grants nothing.
	conn    int64
	seq     uint64
	waiters map[uint64]*waiter

	stop chan struct{}
	done sync.WaitGroup
}

// waiter collects the acknowledgements of one announcement.
type waiter struct {
	mu    sync.Mutex
	acked map[string]bool
	poke  chan struct{} // buffered 1: something was acknowledged
}

// Bus starts a bus on the store's client and prefix. It returns once the
// subscription is in place, so that the first Announce hears its
// acknowledgements; Close stops it.
func (s *Store) Bus(ctx context.Context, o BusOptions) (*Bus, error) {
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	var raw [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	b := &Bus{c: s.c, id: hex.EncodeToString(raw[:]), prefix: s.prefix, handle: o.Handle,
		lease: o.Lease, log: o.Logger, base: time.Now(), waiters: map[uint64]*waiter{}, stop: make(chan struct{})}
	ready := make(chan struct{})
	b.done.Add(1)
	go b.receive(ready)
	select {
	case <-ready:
	case <-ctx.Done():
		b.Close()
		return nil, unavailable("bus subscribe", ctx.Err())
	}
	if b.handle != nil {
		b.done.Add(1)
		go b.renew()
	}
	return b, nil
}

// ID is the bus's name in the registry and on the ack channel.
func (b *Bus) ID() string { return b.id }

func (b *Bus) channel() string            { return b.prefix + "bus" }
func (b *Bus) ackChannel(w string) string { return b.prefix + "bus:ack:" + w }
func (b *Bus) registry() string           { return b.prefix + "nodes" }
func (b *Bus) now() int64                 { return int64(time.Since(b.base)) }

// Trusted reports whether a node may answer from its copies now.
func (b *Bus) Trusted() bool { return b.now() < b.trusted.Load() }

// receive runs the subscription: one connection at a time, a new one
// whenever the old breaks, until Close.
func (b *Bus) receive(ready chan struct{}) {
	defer b.done.Done()
	ctx := context.Background()
	channels := []string{b.ackChannel(b.id)}
	if b.handle != nil {
		channels = append(channels, b.channel())
	}
	for {
		ps := b.c.Subscribe(ctx, channels...)
		b.mu.Lock()
		select {
		case <-b.stop:
			b.mu.Unlock()
			ps.Close()
			return
		default:
		}
		b.conn++
		conn := b.conn
		b.ps = ps
		b.mu.Unlock()
		err := b.listen(ctx, ps, conn, len(channels), ready)
		b.trusted.Store(0)
		b.mu.Lock()
		b.ps = nil
		b.mu.Unlock()
		ps.Close()
		select {
		case <-b.stop:
			return
		case <-time.After(100 * time.Millisecond):
		}
		b.log.Warn("session bus: subscription lost, reconnecting", "err", err)
	}
}

// listen handles one connection's messages until it fails.
func (b *Bus) listen(ctx context.Context, ps *goredis.PubSub, conn int64, channels int, ready chan struct{}) error {
	subscribed := 0
	silence := time.Duration(0) // a writer alone has no pings to expect
	if b.handle != nil {
		silence = max(b.lease, time.Second)
	}
	for {
		msg, err := ps.ReceiveTimeout(ctx, silence)
		if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *goredis.Subscription:
			if m.Kind != "subscribe" {
				continue
			}
			// Anything announced before this subscription went unheard.
			if b.handle != nil {
				b.handle(session.AllTopic)
			}
			if subscribed++; subscribed == channels && ready != nil {
				select {
				case <-ready:
				default:
					close(ready)
				}
			}
		case *goredis.Pong:
			b.pong(m.Payload, conn)
		case *goredis.Message:
			if m.Channel == b.channel() {
				b.heard(ctx, m.Payload)
			} else {
				b.acked(m.Payload)
			}
		}
	}
}

// pong extends the lease to the send time of the ping it answers plus the
// lease, if the ping went out on this connection.
func (b *Bus) pong(payload string, conn int64) {
	c, sent, ok := strings.Cut(payload, " ")
	if !ok || c != strconv.FormatInt(conn, 10) {
		return
	}
	t, err := strconv.ParseInt(sent, 10, 64)
	if err != nil {
		return
	}
	until := t + int64(b.lease)
	for {
		cur := b.trusted.Load()
		if until <= cur || b.trusted.CompareAndSwap(cur, until) {
			return
		}
	}
}

// heard handles an announcement and acknowledges it.
func (b *Bus) heard(ctx context.Context, payload string) {
	parts := strings.SplitN(payload, " ", 3)
	if len(parts) != 3 {
		return
	}
	b.handle(parts[2])
	if err := b.c.Publish(ctx, b.ackChannel(parts[0]), parts[1]+" "+b.id).Err(); err != nil {
		b.log.Warn("session bus: acknowledge", "err", err)
	}
}

// acked records an acknowledgement of one of this writer's announcements.
func (b *Bus) acked(payload string) {
	seq, node, ok := strings.Cut(payload, " ")
	n, err := strconv.ParseUint(seq, 10, 64)
	if !ok || err != nil {
		return
	}
	b.mu.Lock()
	w := b.waiters[n]
	b.mu.Unlock()
	if w == nil {
		return
	}
	w.mu.Lock()
	w.acked[node] = true
	w.mu.Unlock()
	select {
	case w.poke <- struct{}{}:
	default:
	}
}

// renewScript registers node ARGV[1] for ARGV[2] ms from Redis's clock, and
// keeps the registry itself from outliving its nodes.
var renewScript = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], 10 * tonumber(ARGV[2]))
return now
`)

// nodesScript drops ended registrations and returns Redis's clock (ms)
// followed by each node and the end of its registration.
var nodesScript = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local out = {tostring(now)}
for _, v in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')) do
	table.insert(out, v)
end
return out
`)

// renew keeps the node's registration and lease: at once, then every
// lease/5 (at most every 100ms).
func (b *Bus) renew() {
	defer b.done.Done()
	tick := time.NewTicker(min(b.lease/5, 100*time.Millisecond))
	defer tick.Stop()
	for {
		b.ping()
		select {
		case <-b.stop:
			return
		case <-tick.C:
		}
	}
}

// ping renews the registration, then pings on the subscription: its PONG
// extends the lease from the time taken before the renewal.
func (b *Bus) ping() {
	ctx, cancel := context.WithTimeout(context.Background(), b.lease)
	defer cancel()
	sent := b.now()
	b.mu.Lock()
	ps, conn := b.ps, b.conn
	b.mu.Unlock()
	if err := renewScript.Run(ctx, b.c, []string{b.registry()}, b.id, b.lease.Milliseconds()).Err(); err != nil {
		b.log.Debug("session bus: renew", "err", err)
		return
	}
	if ps == nil {
		return
	}
	if err := ps.Ping(ctx, strconv.FormatInt(conn, 10)+" "+strconv.FormatInt(sent, 10)); err != nil {
		b.log.Debug("session bus: ping", "err", err)
	}
}

// Announce tells every node that topic changed, and returns once each node
// registered then has acknowledged it or its registration has ended. It
// fails when Redis does.
func (b *Bus) Announce(ctx context.Context, topic string) error {
	w := &waiter{acked: map[string]bool{}, poke: make(chan struct{}, 1)}
	b.mu.Lock()
	b.seq++
	seq := b.seq
	b.waiters[seq] = w
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.waiters, seq)
		b.mu.Unlock()
	}()
	msg := b.id + " " + strconv.FormatUint(seq, 10) + " " + topic
	if err := b.c.Publish(ctx, b.channel(), msg).Err(); err != nil {
		return unavailable("announce", err)
	}
	pending, err := b.nodes(ctx)
	if err != nil {
		return err
	}
	for {
		w.mu.Lock()
		for node := range w.acked {
			delete(pending, node)
		}
		w.mu.Unlock()
		now := time.Now()
		var next time.Time
		for node, end := range pending {
			if !now.Before(end) {
				delete(pending, node)
			} else if next.IsZero() || end.Before(next) {
				next = end
			}
		}
		if len(pending) == 0 {
			return nil
		}
		timer := time.NewTimer(next.Sub(now))
		select {
		case <-w.poke:
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("session bus: waiting for %d nodes: %w", len(pending), ctx.Err())
		}
		timer.Stop()
	}
}

// nodes returns the registered nodes with the local time their
// registration ends by.
func (b *Bus) nodes(ctx context.Context) (map[string]time.Time, error) {
	res, err := nodesScript.Run(ctx, b.c, []string{b.registry()}).StringSlice()
	if err != nil {
		return nil, unavailable("bus registry", err)
	}
	start := time.Now()
	if len(res)%2 != 1 {
		return nil, unavailable("bus registry", errors.New("malformed reply"))
	}
	now, err := strconv.ParseFloat(res[0], 64)
	if err != nil {
		return nil, unavailable("bus registry", err)
	}
	out := make(map[string]time.Time, len(res)/2)
	for i := 1; i < len(res); i += 2 {
		end, err := strconv.ParseFloat(res[i+1], 64)
		if err != nil {
			return nil, unavailable("bus registry", err)
		}
		// Measured from after the reply, the wait is a little longer than
		// the registration: never shorter.
		out[res[i]] = start.Add(time.Duration(end-now) * time.Millisecond)
	}
	return out, nil
}

// Close stops the bus and, for a node, ends its registration, so writers
// stop waiting for it.
func (b *Bus) Close() error {
	b.mu.Lock()
	select {
	case <-b.stop:
		b.mu.Unlock()
		return nil
	default:
	}
	close(b.stop)
	b.trusted.Store(0)
	if b.ps != nil {
		b.ps.Close()
	}
	b.mu.Unlock()
	b.done.Wait()
	if b.handle == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := b.c.ZRem(ctx, b.registry(), b.id).Err(); err != nil {
		return unavailable("bus close", err)
	}
	return nil
}

package sqlstore

import (
	"context"
	"strings"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/store"
)

const eventCols = `id, occurred_at, type, actor, subject, ip, app, outcome, reason, details`

func scanEvent(s scanner) (audit.Event, error) {
	var e audit.Event
	err := s.Scan(&e.ID, timeCol{&e.Time}, &e.Type, &e.Actor, &e.Subject, &e.IP, &e.App,
		&e.Outcome, &e.Reason, mapCol{&e.Details})
	return e, err
}

// insertEvent is the statement that records an event and returns its ID.
const insertEvent = `INSERT INTO events (occurred_at, type, actor, subject, ip, app, outcome, reason, details)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`

func eventArgs(e *audit.Event) []any {
	return []any{timeArg(e.Time), e.Type, e.Actor, e.Subject, e.IP, e.App, e.Outcome, e.Reason, mapArg(e.Details)}
}

// Record appends e, setting e.ID, and e.Time to now when zero. Outside a
// transaction, where the flavor has a single writer, it is committed with
// the events of concurrent calls (see eventQueue).
func (c *conn) Record(ctx context.Context, e *audit.Event) error {
	n := normEvent(e)
	var err error
	if c.grouped() {
		err = c.owner.events.record(ctx, c.owner, &n)
	} else {
		n.ID, err = c.insertEvent(ctx, &n)
	}
	if err != nil {
		return err
	}
	*e = n
	return nil
}

// QueueEvent implements store.EventQueue. Where Record would commit the
// event on its own (a transaction, or a flavor with many writers), Commit
// is Record and Withdraw always succeeds before it.
func (c *conn) QueueEvent(ctx context.Context, e *audit.Event) store.QueuedEvent {
	if !c.grouped() {
		return &directEvent{c: c, e: e}
	}
	n := normEvent(e)
	return &groupedEvent{d: c.owner, e: e, q: c.owner.events.add(&n)}
}

// grouped reports whether c's events go through the group commit.
func (c *conn) grouped() bool { return !c.isTx() && c.flavor.SingleWriter }

func normEvent(e *audit.Event) audit.Event {
	n := *e
	n.Time, n.Details = normTime(n.Time), normMap(n.Details)
	if n.Time.IsZero() {
		n.Time = now()
	}
	return n
}

// groupedEvent is an event in the group commit's queue.
type groupedEvent struct {
	d *DB
	e *audit.Event // the caller's, set when committed
	q *queuedEvent
}

func (g *groupedEvent) Commit(ctx context.Context) error {
	if err := g.d.events.wait(ctx, g.d, g.q); err != nil {
		return err
	}
	*g.e = *g.q.e
	return nil
}

func (g *groupedEvent) Withdraw() bool { return g.d.events.withdraw(g.q) }

// directEvent is a queued event that Commit records on its own.
type directEvent struct {
	c *conn
	e *audit.Event
}

func (d *directEvent) Commit(ctx context.Context) error { return d.c.Record(ctx, d.e) }
func (d *directEvent) Withdraw() bool                   { return true }

// insertEvent writes e on its own and returns its ID.
func (c *conn) insertEvent(ctx context.Context, e *audit.Event) (int64, error) {
	return c.insert(ctx, "record "+e.Type+" event", insertEvent, eventArgs(e)...)
}

// ListEvents returns the events matching f in f.Order: by default newest
// (highest ID) first.
func (c *conn) ListEvents(ctx context.Context, f store.EventFilter) ([]audit.Event, error) {
	where, args := eventWhere(f)
	page, pageArgs := limitOffset(f.Limit, 0)
	return all(ctx, c, "list events", scanEvent,
		`SELECT `+eventCols+` FROM events`+where+eventOrder[f.Order]+page,
		append(args, pageArgs...)...)
}

// eventOrder is the ORDER BY of each store.EventOrder; both backends walk
// the occurred_at index for the time orders.
var eventOrder = map[store.EventOrder]string{
	store.NewestByID:   ` ORDER BY id DESC`,
	store.NewestByTime: ` ORDER BY occurred_at DESC, id DESC`,
	store.OldestByTime: ` ORDER BY occurred_at, id`,
}

func eventWhere(f store.EventFilter) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, a ...any) {
		conds, args = append(conds, cond), append(args, a...)
	}
	if !f.Since.IsZero() {
		add("occurred_at >= ?", timeArg(f.Since))
	}
	if !f.Until.IsZero() {
		add("occurred_at < ?", timeArg(f.Until))
	}
	if len(f.Types) > 0 {
		add("type IN (?"+strings.Repeat(", ?", len(f.Types)-1)+")", anys(f.Types)...)
	}
	if f.Subject != "" {
		add("lower(subject) = ?", strings.ToLower(f.Subject))
	}
	if f.Actor != "" {
		add("lower(actor) = ?", strings.ToLower(f.Actor))
	}
	if f.Search != "" {
		add(searchCond, repeat(likeArg(f.Search), 6)...)
	}
	if f.BeforeID > 0 {
		add("id < ?", f.BeforeID)
	}
	return whereClause(conds), args
}

// searchCond matches a case-folded substring in any text an operator might
// search for; it takes the same pattern six times.
const searchCond = `(lower(subject) LIKE ? ESCAPE '\' OR lower(actor) LIKE ? ESCAPE '\'
	OR lower(app) LIKE ? ESCAPE '\' OR lower(type) LIKE ? ESCAPE '\'
	OR lower(reason) LIKE ? ESCAPE '\' OR lower(details) LIKE ? ESCAPE '\')`

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func repeat(v any, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = v
	}
	return out
}

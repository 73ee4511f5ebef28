package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"sync"

	"github.com/portcullis/portcullis/audit"
)

// eventQueue commits the events of concurrent Record calls together (group
// commit), where the flavor has a single writer. A commit writes the pages
// it changed to the WAL (the events table's and its four indexes'), so N
// events in one transaction cost about what one does. An event that arrives
// while a commit is under way waits in the queue; when the commit ends, the
// first caller waiting commits every event queued by then, in one
// transaction. Each caller returns once its own event is committed (as
// durable as a commit of its own would have made it), with its own error:
// when a batch fails, its events are written one by one.
//
// QueueEvent splits a call in two: add puts the event in the queue, where
// any commit takes it, and wait returns once it is committed (leading a
// commit when none is under way). Between them the caller does the work
// the event reports, while the other callers' commits take its event along.
type eventQueue struct {
	mu      sync.Mutex
	busy    bool // a caller is committing, or has been told to
	pending []*queuedEvent
}

type queuedEvent struct {
	e       *audit.Event
	err     error
	done    chan struct{} // closed when committed, or to make the caller lead
	lead    bool
	taken   bool // by a commit, or withdrawn
	waiting bool // its caller is in wait
}

// record commits e, setting e.ID.
func (q *eventQueue) record(ctx context.Context, d *DB, e *audit.Event) error {
	return q.wait(ctx, d, q.add(e))
}

// add queues e without committing it.
func (q *eventQueue) add(e *audit.Event) *queuedEvent {
	me := &queuedEvent{e: e, done: make(chan struct{})}
	q.mu.Lock()
	q.pending = append(q.pending, me)
	q.mu.Unlock()
	return me
}

// wait returns once me is committed: at once if a commit has taken it,
// after leading one if none is under way, and otherwise when the commit
// under way ends and either took it or hands the lead to a waiting caller.
func (q *eventQueue) wait(ctx context.Context, d *DB, me *queuedEvent) error {
	q.mu.Lock()
	if me.taken || q.busy {
		me.waiting = true
		q.mu.Unlock()
		<-me.done
		if !me.lead {
			return me.err
		}
		q.mu.Lock()
	}
	q.busy = true
	batch := q.pending
	q.pending = nil
	for _, b := range batch {
		b.taken = true
	}
	q.mu.Unlock()

	// The batch is the other callers' too: one caller's cancellation must
	// not undo their events.
	d.commitEvents(context.WithoutCancel(ctx), batch)
	for _, b := range batch {
		if b != me {
			close(b.done)
		}
	}
	q.mu.Lock()
	q.busy = false
	for _, next := range q.pending {
		// Only a caller in wait may lead: the others are still working,
		// and their events go with the next commit or their own.
		if next.waiting {
			q.busy, next.lead = true, true
			close(next.done)
			break
		}
	}
	q.mu.Unlock()
	return me.err
}

// withdraw takes me out of the queue if no commit has taken it.
func (q *eventQueue) withdraw(me *queuedEvent) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if me.taken {
		return false
	}
	me.taken = true
	q.pending = slices.DeleteFunc(q.pending, func(p *queuedEvent) bool { return p == me })
	return true
}

// commitEvents writes batch, setting each event's ID or error. One event is
// written on its own (a statement is its own transaction); more share one
// transaction, and are written one by one if it fails.
func (d *DB) commitEvents(ctx context.Context, batch []*queuedEvent) {
	if len(batch) > 1 && d.insertEvents(ctx, batch) == nil {
		return
	}
	for _, b := range batch {
		b.e.ID, b.err = d.appendEvent(ctx, b.e)
	}
}

// appendEvent is insertEvent without RETURNING: the group commit runs only
// where the flavor has a single writer (SQLite), whose driver reports the
// row's ID itself, and a statement that returns no rows costs a fifth less.
const appendEvent = `INSERT INTO events (occurred_at, type, actor, subject, ip, app, outcome, reason, details)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`

// appendEvent writes e on its own and returns its ID.
func (d *DB) appendEvent(ctx context.Context, e *audit.Event) (int64, error) {
	res, err := d.exec(ctx, appendEvent, eventArgs(e)...)
	if err == nil {
		var id int64
		if id, err = res.LastInsertId(); err == nil {
			return id, nil
		}
	}
	return 0, d.fail("record "+e.Type+" event", err)
}

// insertEvents writes batch in one transaction, with the cached prepared
// statement where there is one.
func (d *DB) insertEvents(ctx context.Context, batch []*queuedEvent) error {
	defer d.lockWriter()()
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	exec := func(args ...any) (sql.Result, error) {
		return tx.ExecContext(ctx, d.flavor.rebind(appendEvent), args...)
	}
	if s := d.prepared(ctx, appendEvent); s != nil {
		ts := tx.StmtContext(ctx, s)
		exec = func(args ...any) (sql.Result, error) { return ts.ExecContext(ctx, args...) }
	}
	for _, b := range batch {
		res, err := exec(eventArgs(b.e)...)
		if err == nil {
			b.e.ID, err = res.LastInsertId()
		}
		if err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

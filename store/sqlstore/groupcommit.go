package sqlstore

import (
	"context"
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
type eventQueue struct {
	mu      sync.Mutex
	busy    bool // a caller is committing
	pending []*queuedEvent
}

type queuedEvent struct {
	e    *audit.Event
	err  error
	done chan struct{} // closed when committed, or to make the caller lead
	lead bool
}

// record commits e, setting e.ID.
func (q *eventQueue) record(ctx context.Context, d *DB, e *audit.Event) error {
	me := &queuedEvent{e: e, done: make(chan struct{})}
	q.mu.Lock()
	q.pending = append(q.pending, me)
	if q.busy {
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
	if len(q.pending) > 0 {
		next := q.pending[0]
		next.lead = true
		close(next.done)
	} else {
		q.busy = false
	}
	q.mu.Unlock()
	return me.err
}

// commitEvents writes batch, setting each event's ID or error. One event is
// written on its own (a statement is its own transaction); more share one
// transaction, and are written one by one if it fails.
func (d *DB) commitEvents(ctx context.Context, batch []*queuedEvent) {
	if len(batch) > 1 && d.insertEvents(ctx, batch) == nil {
		return
	}
	for _, b := range batch {
		b.e.ID, b.err = d.insertEvent(ctx, b.e)
	}
}

// insertEvents writes batch in one transaction, with the cached prepared
// statement where there is one.
func (d *DB) insertEvents(ctx context.Context, batch []*queuedEvent) error {
	defer d.lockWriter()()
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	insert := func(args ...any) (id int64, err error) {
		err = tx.QueryRowContext(ctx, d.flavor.rebind(insertEvent), args...).Scan(&id)
		return id, err
	}
	if s := d.prepared(ctx, insertEvent); s != nil {
		ts := tx.StmtContext(ctx, s)
		insert = func(args ...any) (id int64, err error) {
			err = ts.QueryRowContext(ctx, args...).Scan(&id)
			return id, err
		}
	}
	for _, b := range batch {
		if b.e.ID, err = insert(eventArgs(b.e)...); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

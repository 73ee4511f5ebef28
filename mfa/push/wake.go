package push

import "sync"

// waiters wakes this node's held challenge polls when this node makes a
// push for their user, so that they answer at once. It is only a shortcut:
// pushes made on other nodes are found by reading the session backend every
// PollInterval.
type waiters struct {
	mu sync.Mutex
	by map[int64]map[chan struct{}]struct{}
}

func newWaiters() *waiters { return &waiters{by: map[int64]map[chan struct{}]struct{}{}} }

// add registers a poll for userID; call the returned func when it ends.
func (w *waiters) add(userID int64) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.by[userID] == nil {
		w.by[userID] = map[chan struct{}]struct{}{}
	}
	w.by[userID][ch] = struct{}{}
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.by[userID], ch)
		if len(w.by[userID]) == 0 {
			delete(w.by, userID)
		}
	}
}

// notify wakes every poll of userID on this node.
func (w *waiters) notify(userID int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.by[userID] {
		select {
		case ch <- struct{}{}:
		default: // already woken
		}
	}
}

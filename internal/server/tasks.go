package server

import (
	"context"
	"sync"
)

// AddTask adds fn to what runs beside the HTTP server: Serve starts every
// task with a context that ends when shutdown begins, and returns only
// after all of them have returned. Tasks added after Serve started do not
// run.
func (s *Server) AddTask(fn func(ctx context.Context)) {
	s.tasks = append(s.tasks, fn)
}

// runTasks starts the tasks; stop ends them and waits.
func (s *Server) runTasks(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, fn := range s.tasks {
		wg.Go(func() { fn(ctx) })
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

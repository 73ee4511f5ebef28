package sessiontest

import (
	"context"
	"sync"
)

// Revoker stands in for session.Manager's RevokeUser in tests of packages
// that end a user's sessions (scim, enterprise): it records whom, and
// fails with Err when set.
type Revoker struct {
	mu    sync.Mutex
	users []int64
	Err   error
}

// RevokeUser records the user.
func (r *Revoker) RevokeUser(_ context.Context, id int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.users = append(r.users, id)
	return 1, r.Err
}

// Revoked lists the users revoked so far, in order.
func (r *Revoker) Revoked() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int64(nil), r.users...)
}

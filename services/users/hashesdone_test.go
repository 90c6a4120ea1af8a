package users_test

import (
	"sync/atomic"
	"testing"

	"hearth/services/users"
)

// HashesDone runs once the last password hash in flight has finished:
// after a registration and after a password check.
func TestHashesDoneAfterHashing(t *testing.T) {
	var calls atomic.Int32
	e := newEnv(t, func(o *users.Options) { o.HashesDone = func() { calls.Add(1) } })
	id := e.register("alice")
	if calls.Load() != 1 {
		t.Fatalf("after a registration: %d calls", calls.Load())
	}
	mustOK(t, e.svc.CheckPassword(ctx, id, "correct horse"))
	if calls.Load() != 2 {
		t.Fatalf("after a password check: %d calls", calls.Load())
	}
}

package homeserver

import (
	"runtime/debug"
	"sync"
	"time"
)

// memoryReturner hands freed memory back to the OS shortly after a burst
// of password hashing: each argon2id hash allocates its whole memory cost
// (19 MiB by default) and drops it, and the Go runtime would otherwise keep
// those pages for minutes. On a 1 GiB box a few logins must not leave the
// server at 100 MB. Calls are debounced: at most one return per delay.
type memoryReturner struct {
	mu      sync.Mutex
	delay   time.Duration
	pending bool
}

func newMemoryReturner(delay time.Duration) *memoryReturner {
	return &memoryReturner{delay: delay}
}

// soon schedules a return if none is scheduled. It does not block.
func (m *memoryReturner) soon() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pending {
		return
	}
	m.pending = true
	time.AfterFunc(m.delay, func() {
		m.mu.Lock()
		m.pending = false
		m.mu.Unlock()
		debug.FreeOSMemory()
	})
}

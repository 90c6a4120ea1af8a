package homeserver

import (
	"testing"
	"time"
)

// A burst of calls schedules one return of memory, and a later burst
// another.
func TestMemoryReturnerDebounces(t *testing.T) {
	m := newMemoryReturner(20 * time.Millisecond)
	for i := 0; i < 100; i++ {
		m.soon()
	}
	m.mu.Lock()
	pending := m.pending
	m.mu.Unlock()
	if !pending {
		t.Fatal("nothing scheduled")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		m.mu.Lock()
		pending = m.pending
		m.mu.Unlock()
		if !pending {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the scheduled return never ran")
		}
		time.Sleep(5 * time.Millisecond)
	}
	m.soon()
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.pending {
		t.Fatal("a later burst scheduled nothing")
	}
}

package federationtest

import (
	"fmt"
	"testing"
)

// A user who joins a room on another server pages back through history
// from before the join: the server backfills it on demand.
func TestBackfillOnDemand(t *testing.T) {
	n := NewNetwork(t)
	hs1, hs2 := n.Add("hs1.test"), n.Add("hs2.test")
	alice, bob := hs1.Register("alice"), hs2.Register("bob")
	roomID := alice.CreateRoom(map[string]any{"preset": "public_chat", "initial_state": []any{
		map[string]any{"type": "m.room.history_visibility", "state_key": "", "content": map[string]any{"history_visibility": "shared"}}}})
	var before []string
	for i := 0; i < 150; i++ {
		before = append(before, alice.Send(roomID, fmt.Sprint("old ", i)))
	}
	if st, b := bob.Join(roomID, "hs1.test"); st != 200 {
		t.Fatalf("join: %d %v", st, b)
	}
	after := alice.Send(roomID, "new")
	Eventually(t, 10e9, "the new message on hs2", func() bool {
		m := bob.Messages(roomID)
		return len(m) > 0 && m[len(m)-1] == after
	})
	got := bob.Messages(roomID)
	want := append(before, after)
	if len(got) != len(want) {
		t.Fatalf("bob sees %d messages, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("message %d: %s, want %s", i, got[i], want[i])
		}
	}
	// Paging again fetches nothing twice.
	if again := bob.Messages(roomID); len(again) != len(want) {
		t.Fatalf("second walk: %d messages", len(again))
	}
}

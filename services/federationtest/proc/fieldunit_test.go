package proc

import (
	"fmt"
	"testing"
	"time"
)

// awayAtLeast is how long the field unit stays away: long enough that
// hs1's and hs2's queues for it have failed several times and wait 10 s
// or more between tries, so that a quick catch-up shows that its return
// wakes them (queue.Wake) rather than their retry timers.
const awayAtLeast = 20 * time.Second

// TestFieldUnitCatchesUp is the field unit of issue 4. hs3 is a field
// unit that hosts a public room with users of hs1 and hs2 in it. It goes
// offline (a clean stop), comes back cut off from the others (see
// StartCutOff: its federation port is one nobody knows and its dialer
// refuses their addresses), its own users write 50 messages, and the
// process is killed with SIGKILL. Meanwhile hs1 and hs2 write 500. When
// hs3 returns normally, all three must hold all 550 messages exactly once
// and report the same current state within 60 s; the time that takes is
// the "caught up after the link is back" figure.
func TestFieldUnitCatchesUp(t *testing.T) {
	bin := hearthBinary(t)
	n := NewNetwork(t, bin)
	hs1, hs2, hs3 := n.Add("hs1"), n.Add("hs2"), n.Add("hs3")
	alice, bob := register(t, hs1, "alice"), register(t, hs2, "bob")
	carol, dave := register(t, hs3, "carol"), register(t, hs3, "dave")

	room, err := carol.CreateRoom(map[string]any{"preset": "public_chat", "room_alias_name": "field", "name": "Field unit"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := alice.Join("#field:"+hs3.Name, hs3.Name); err != nil || got != room {
		t.Fatalf("alice joins #field:%s: room %q, %v (want %s)", hs3.Name, got, err, room)
	}
	if _, err := bob.Join(room, hs3.Name); err != nil {
		t.Fatalf("bob joins by ID: %v", err)
	}
	if _, err := dave.Join(room); err != nil {
		t.Fatalf("dave joins: %v", err)
	}
	users := []*User{alice, bob, carol, dave}
	waitFor(t, 30*time.Second, "four members on every server", func() error { return joinedEverywhere(room, users...) })

	hs3.Stop()
	away := time.Now()
	west := write(alice, room, 250, "alice")
	east := write(bob, room, 250, "bob")

	hs3.StartCutOff()
	var local []string // hs3's messages acknowledged before the kill
	for i := range 25 {
		for _, u := range []*User{carol, dave} {
			id, err := u.Send(room, fmt.Sprint("field ", i))
			if err != nil {
				t.Fatalf("%s writes on the cut-off field unit: %v", u.ID, err)
			}
			local = append(local, id)
		}
	}
	hs3.Kill()

	want := map[string]bool{}
	addAll(want, local)
	addAll(want, west.wait(t))
	addAll(want, east.wait(t))
	if len(want) != 550 {
		t.Fatalf("%d distinct event IDs for 550 acknowledged sends", len(want))
	}
	if rest := awayAtLeast - time.Since(away); rest > 0 {
		time.Sleep(rest) // the scenario: an absence long enough for backoff
	}
	t.Logf("hs3 away for %v: 50 messages written on it cut off, then SIGKILL; 500 written on hs1 and hs2",
		time.Since(away).Round(time.Millisecond))
	for _, u := range []*User{alice, bob} {
		if err := none(u, room, local); err != nil {
			t.Fatalf("hs3 was not cut off: %v", err)
		}
	}

	back := time.Now()
	hs3.Start()
	serving := time.Since(back)
	waitFor(t, 60*time.Second, "all 550 messages and the same state on all three", func() error {
		for _, u := range []*User{alice, bob} {
			if err := holdsAll(u, room, local); err != nil {
				return fmt.Errorf("hs3's messages acknowledged before the SIGKILL: %w", err)
			}
		}
		return converged(room, want, alice, bob, carol)
	})
	t.Logf("field unit back: serving %v after its restart, caught up (550 messages, same state on all three) %v after its restart",
		serving.Round(time.Millisecond), time.Since(back).Round(time.Millisecond))
}

package federationtest

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

func sameStateEverywhere(t *testing.T, roomID string, users ...*User) bool {
	t.Helper()
	var first map[string]string
	for i, u := range users {
		st, ok := u.State(roomID)
		if !ok {
			return false
		}
		if i == 0 {
			first = st
		} else if !reflect.DeepEqual(first, st) {
			return false
		}
	}
	return true
}

func TestThreeServersShareARoom(t *testing.T) {
	n := NewNetwork(t)
	hs1, hs2, hs3 := n.Add("hs1.test"), n.Add("hs2.test"), n.Add("hs3.test")
	carol := hs3.Register("carol")
	alice := hs1.Register("alice")
	bob := hs2.Register("bob")

	roomID := carol.CreateRoom(map[string]any{"preset": "public_chat", "room_alias_name": "town", "name": "Town hall"})
	if st, b := alice.Join("#town:hs3.test"); st != 200 {
		t.Fatalf("alice joins by alias: %d %v", st, b)
	}
	if st, b := bob.Join(roomID, "hs3.test"); st != 200 {
		t.Fatalf("bob joins by ID: %d %v", st, b)
	}
	Eventually(t, 20*time.Second, "every server to see three members", func() bool {
		for _, u := range []*User{alice, bob, carol} {
			st, ok := u.State(roomID)
			if !ok || st["m.room.member|"+alice.ID] == "" || st["m.room.member|"+bob.ID] == "" {
				return false
			}
		}
		return true
	})

	// 300 messages from all three servers.
	var sent []string
	for i := 0; i < 100; i++ {
		sent = append(sent, alice.Send(roomID, fmt.Sprint("alice ", i)))
		sent = append(sent, bob.Send(roomID, fmt.Sprint("bob ", i)))
		sent = append(sent, carol.Send(roomID, fmt.Sprint("carol ", i)))
	}
	Eventually(t, 60*time.Second, "all 300 messages on every server", func() bool {
		for _, u := range []*User{alice, bob, carol} {
			if len(u.Messages(roomID)) < len(sent) {
				return false
			}
		}
		return true
	})
	want := map[string]bool{}
	for _, id := range sent {
		want[id] = true
	}
	for _, u := range []*User{alice, bob, carol} {
		got := u.Messages(roomID)
		seen := map[string]bool{}
		for _, id := range got {
			if seen[id] {
				t.Fatalf("%s holds %s twice", u.Node.Name, id)
			}
			seen[id] = true
			if !want[id] {
				t.Fatalf("%s holds an unexpected message %s", u.Node.Name, id)
			}
		}
		if len(seen) != len(want) {
			t.Fatalf("%s holds %d messages, want %d", u.Node.Name, len(seen), len(want))
		}
	}
	Eventually(t, 20*time.Second, "identical state on all three", func() bool {
		return sameStateEverywhere(t, roomID, alice, bob, carol)
	})
}

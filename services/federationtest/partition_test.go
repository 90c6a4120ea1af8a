package federationtest

import (
	"fmt"
	"net/url"
	"testing"
	"time"
)

// setUsersPower replaces the users map of the room's power levels.
func setUsersPower(u *User, roomID string, users map[string]any) (int, map[string]any) {
	pl := u.Must("GET", "/_matrix/client/v3/rooms/"+url.PathEscape(roomID)+"/state/m.room.power_levels/", nil)
	pl["users"] = users
	return u.SetState(roomID, "m.room.power_levels", "", pl)
}

// During a partition, two sides change power levels, ban and topic at the
// same time; after the partition heals, all three servers hold the same
// state, and every message written on either side.
func TestPartitionConflictsConverge(t *testing.T) {
	n := NewNetwork(t)
	hs1, hs2, hs3 := n.Add("hs1.test"), n.Add("hs2.test"), n.Add("hs3.test")
	carol := hs3.Register("carol")
	alice, bob := hs1.Register("alice"), hs2.Register("bob")
	mallory := hs2.Register("mallory")
	roomID := carol.CreateRoom(map[string]any{"preset": "public_chat", "name": "Before",
		"power_level_content_override": map[string]any{"users": map[string]any{
			alice.ID: 100, bob.ID: 100}}})
	for _, u := range []*User{alice, bob, mallory} {
		if st, b := u.Join(roomID, "hs3.test"); st != 200 {
			t.Fatalf("%s joins: %d %v", u.ID, st, b)
		}
	}
	Eventually(t, 20*time.Second, "everyone joined everywhere", func() bool {
		for _, u := range []*User{alice, bob, carol} {
			if u.MembershipIn(roomID, mallory.ID) != "join" || u.MembershipIn(roomID, alice.ID) != "join" || u.MembershipIn(roomID, bob.ID) != "join" {
				return false
			}
		}
		return true
	})

	// Each user's client follows the room through /sync across the
	// partition and the heal.
	views := []*ClientView{alice.Follow(roomID), bob.Follow(roomID), carol.Follow(roomID)}

	// Partition: hs1 alone | hs2 with hs3.
	n.Partition([]*Node{hs1}, []*Node{hs2, hs3})
	var sent []string
	// Side A (hs1): alice bans mallory, sets the topic, changes the power levels.
	if st, b := alice.Membership(roomID, "ban", mallory.ID); st != 200 {
		t.Fatalf("ban: %d %v", st, b)
	}
	alice.SetState(roomID, "m.room.topic", "", map[string]any{"topic": "from hs1"})
	if st, b := setUsersPower(alice, roomID, map[string]any{alice.ID: 100, bob.ID: 100, mallory.ID: 20}); st != 200 {
		t.Fatalf("alice's power levels: %d %v", st, b)
	}
	// Side B (hs2, hs3): bob changes the topic and the power levels too;
	// mallory keeps talking.
	bob.SetState(roomID, "m.room.topic", "", map[string]any{"topic": "from hs2"})
	if st, b := setUsersPower(bob, roomID, map[string]any{alice.ID: 100, bob.ID: 100, mallory.ID: 10}); st != 200 {
		t.Fatalf("bob's power levels: %d %v", st, b)
	}
	for i := 0; i < 10; i++ {
		sent = append(sent, alice.Send(roomID, fmt.Sprint("a", i)), bob.Send(roomID, fmt.Sprint("b", i)), carol.Send(roomID, fmt.Sprint("c", i)))
	}
	mallorySaid := mallory.Send(roomID, "during the partition")
	// The partition holds: each side sees only its own topic.
	topic := func(u *User) string {
		b := u.Must("GET", "/_matrix/client/v3/rooms/"+url.PathEscape(roomID)+"/state/m.room.topic/", nil)
		return fmt.Sprint(b["topic"])
	}
	if a, b := topic(alice), topic(bob); a != "from hs1" || b != "from hs2" {
		t.Fatalf("during the partition: hs1 sees topic %q, hs2 sees %q", a, b)
	}

	n.Heal()
	// Anything the servers say to each other now also resets back-offs;
	// a message from each side speeds that up like real traffic would.
	sent = append(sent, alice.Send(roomID, "healed a"), bob.Send(roomID, "healed b"))
	Eventually(t, 60*time.Second, "identical state on all three after healing", func() bool {
		return sameStateEverywhere(t, roomID, alice, bob, carol)
	})
	for _, u := range []*User{alice, bob, carol} {
		got := map[string]bool{}
		for _, id := range u.Messages(roomID) {
			got[id] = true
		}
		for _, id := range sent {
			if !got[id] {
				Eventually(t, 30*time.Second, "every message on "+u.Node.Name, func() bool {
					for _, m := range u.Messages(roomID) {
						if m == id {
							return true
						}
					}
					return false
				})
			}
		}
	}
	// What each client followed through /sync is the servers' state, for
	// the keys fought over (the timelines show losing events too; a
	// state reset must be signalled).
	for _, v := range views {
		v.CatchUp()
		st, _ := v.u.State(roomID)
		for _, k := range []string{"m.room.topic|", "m.room.power_levels|", "m.room.member|" + mallory.ID} {
			if v.State[k] != st[k] {
				t.Errorf("%s's client has %s = %s, the server %s", v.u.ID, k, v.State[k], st[k])
			}
		}
	}
	// The ban holds everywhere (a ban by a power-100 user against a
	// power-0 user survives any resolution).
	for _, u := range []*User{alice, bob, carol} {
		if m := u.MembershipIn(roomID, mallory.ID); m != "ban" {
			t.Fatalf("mallory on %s: %q", u.Node.Name, m)
		}
	}
	_ = mallorySaid
}

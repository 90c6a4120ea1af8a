package federationtest

import (
	"net/url"
	"testing"
	"time"
)

// leftRooms lists the rooms under rooms.leave of an initial sync that
// asks for them.
func leftRooms(u *User) map[string]any {
	b := u.Must("GET", "/_matrix/client/v3/sync?filter="+url.QueryEscape(`{"room":{"include_leave":true}}`), nil)
	rooms, _ := b["rooms"].(map[string]any)
	left, _ := rooms["leave"].(map[string]any)
	return left
}

// invitedRooms lists the rooms under rooms.invite of an initial sync.
func invitedRooms(u *User) map[string]any {
	rooms, _ := u.Sync("", 0)["rooms"].(map[string]any)
	inv, _ := rooms["invite"].(map[string]any)
	return inv
}

func TestMembershipAcrossServers(t *testing.T) {
	n := NewNetwork(t)
	hs1, hs2 := n.Add("hs1.test"), n.Add("hs2.test")
	alice, bob := hs1.Register("alice"), hs2.Register("bob")
	dave := hs2.Register("dave")
	roomID := alice.CreateRoom(map[string]any{"preset": "private_chat", "name": "Private"})

	// A remote invite reaches bob's sync with the room's stripped state.
	if st, b := alice.Membership(roomID, "invite", bob.ID); st != 200 {
		t.Fatalf("invite bob: %d %v", st, b)
	}
	inv := invitedRooms(bob)
	if inv[roomID] == nil {
		t.Fatalf("bob's sync has no invite: %v", inv)
	}
	state := inv[roomID].(map[string]any)["invite_state"].(map[string]any)["events"].([]any)
	named := false
	for _, e := range state {
		ev := e.(map[string]any)
		if ev["type"] == "m.room.name" && ev["content"].(map[string]any)["name"] == "Private" {
			named = true
		}
	}
	if !named {
		t.Fatalf("the invite's stripped state lacks the room name: %v", state)
	}
	// bob accepts: the join goes through hs1 (the inviter's server).
	if st, b := bob.Join(roomID, "hs1.test"); st != 200 {
		t.Fatalf("bob accepts: %d %v", st, b)
	}
	Eventually(t, 10*time.Second, "bob joined on hs1", func() bool { return alice.MembershipIn(roomID, bob.ID) == "join" })

	// dave is invited and rejects it: the leave travels through hs1.
	if st, b := alice.Membership(roomID, "invite", dave.ID); st != 200 {
		t.Fatalf("invite dave: %d %v", st, b)
	}
	Eventually(t, 10*time.Second, "dave's invite on hs2", func() bool { return bob.MembershipIn(roomID, dave.ID) == "invite" })
	if st, b := dave.Leave(roomID); st != 200 {
		t.Fatalf("dave rejects: %d %v", st, b)
	}
	Eventually(t, 10*time.Second, "dave's rejection on hs1", func() bool { return alice.MembershipIn(roomID, dave.ID) == "leave" })

	// A kick of a remote user: bob is out on both servers and cannot send.
	if st, b := alice.Membership(roomID, "kick", bob.ID); st != 200 {
		t.Fatalf("kick: %d %v", st, b)
	}
	Eventually(t, 10*time.Second, "bob kicked on hs2", func() bool { return leftRooms(bob)[roomID] != nil })
	if st, _ := bob.Call("PUT", "/_matrix/client/v3/rooms/"+url.PathEscape(roomID)+"/send/m.room.message/k1",
		map[string]any{"msgtype": "m.text", "body": "still here?"}); st != 403 {
		t.Fatalf("a kicked user sent a message: %d", st)
	}
	// Invite again, join, then a ban: bob cannot rejoin.
	alice.Membership(roomID, "invite", bob.ID)
	Eventually(t, 10*time.Second, "bob re-invited", func() bool { return invitedRooms(bob)[roomID] != nil })
	if st, b := bob.Join(roomID, "hs1.test"); st != 200 {
		t.Fatalf("bob rejoins: %d %v", st, b)
	}
	Eventually(t, 10*time.Second, "bob rejoined on hs1", func() bool { return alice.MembershipIn(roomID, bob.ID) == "join" })
	msg := bob.Send(roomID, "back again")
	Eventually(t, 10*time.Second, "bob's message on hs1", func() bool {
		for _, id := range alice.Messages(roomID) {
			if id == msg {
				return true
			}
		}
		return false
	})
	if st, b := alice.Membership(roomID, "ban", bob.ID); st != 200 {
		t.Fatalf("ban: %d %v", st, b)
	}
	Eventually(t, 10*time.Second, "the ban on hs2", func() bool { return leftRooms(bob)[roomID] != nil })
	if st, _ := bob.Join(roomID, "hs1.test"); st == 200 {
		t.Fatal("a banned user rejoined")
	}
	// A remote user leaving on their own.
	alice.Membership(roomID, "unban", bob.ID)
	alice.Membership(roomID, "invite", bob.ID)
	Eventually(t, 10*time.Second, "bob invited after unban", func() bool { return invitedRooms(bob)[roomID] != nil })
	if st, b := bob.Join(roomID, "hs1.test"); st != 200 {
		t.Fatalf("bob joins after unban: %d %v", st, b)
	}
	Eventually(t, 10*time.Second, "bob in again", func() bool { return alice.MembershipIn(roomID, bob.ID) == "join" })
	if st, b := bob.Leave(roomID); st != 200 {
		t.Fatalf("bob leaves: %d %v", st, b)
	}
	Eventually(t, 10*time.Second, "bob's leave on hs1", func() bool { return alice.MembershipIn(roomID, bob.ID) == "leave" })
}

func TestTypingAndReceiptsCrossServers(t *testing.T) {
	n := NewNetwork(t)
	hs1, hs2 := n.Add("hs1.test"), n.Add("hs2.test")
	alice, bob := hs1.Register("alice"), hs2.Register("bob")
	roomID := alice.CreateRoom(map[string]any{"preset": "public_chat"})
	if st, b := bob.Join(roomID, "hs1.test"); st != 200 {
		t.Fatalf("join: %d %v", st, b)
	}
	Eventually(t, 10*time.Second, "bob joined on hs1", func() bool { return alice.MembershipIn(roomID, bob.ID) == "join" })
	msg := alice.Send(roomID, "read me")
	Eventually(t, 10*time.Second, "message on hs2", func() bool {
		m := bob.Messages(roomID)
		return len(m) > 0 && m[len(m)-1] == msg
	})
	bob.Must("PUT", "/_matrix/client/v3/rooms/"+url.PathEscape(roomID)+"/typing/"+url.PathEscape(bob.ID), map[string]any{"typing": true, "timeout": 20000})
	bob.Must("POST", "/_matrix/client/v3/rooms/"+url.PathEscape(roomID)+"/receipt/m.read/"+url.PathEscape(msg), map[string]any{})
	sawTyping, sawReceipt := false, false
	Eventually(t, 10*time.Second, "bob's typing and receipt in alice's sync", func() bool {
		rooms, _ := alice.Sync("", 0)["rooms"].(map[string]any)
		join, _ := rooms["join"].(map[string]any)
		r, _ := join[roomID].(map[string]any)
		eph, _ := r["ephemeral"].(map[string]any)
		evs, _ := eph["events"].([]any)
		for _, e := range evs {
			ev := e.(map[string]any)
			c, _ := ev["content"].(map[string]any)
			switch ev["type"] {
			case "m.typing":
				for _, u := range c["user_ids"].([]any) {
					if u == bob.ID {
						sawTyping = true
					}
				}
			case "m.receipt":
				if rc, ok := c[msg].(map[string]any); ok {
					if rd, ok := rc["m.read"].(map[string]any); ok && rd[bob.ID] != nil {
						sawReceipt = true
					}
				}
			}
		}
		return sawTyping && sawReceipt
	})
}

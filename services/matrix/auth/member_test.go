package auth

import (
	"testing"

	"hearth/services/matrix/pdu"
)

// signedBy re-signs ev for the servers given (dropping its old signatures).
func signedBy(r *room, ev *pdu.Event, servers ...string) *pdu.Event {
	return reSign(r.t, r.v, ev, nil, servers...)
}

func TestMemberBasics(t *testing.T) {
	runCases(t, []tc{
		{name: "5.1 accept: join with membership", checkAll: true,
			setup: func(r *room) *pdu.Event { return r.member(carol, carol, "join") }},
		{name: "5.1 reject: no state_key", want: "5.1",
			setup: func(r *room) *pdu.Event {
				return r.build("m.room.member", nil, carol, obj{"membership": "join"})
			}},
		{name: "5.1 reject: no membership", want: "5.1",
			setup: func(r *room) *pdu.Event {
				return r.build("m.room.member", sk(carol), carol, obj{"displayname": "Carol"})
			}},
		{name: "5.8 reject: unknown membership", want: "5.8",
			setup: func(r *room) *pdu.Event { return r.member(bob, bob, "dance") }},
		{name: "5.8 reject: membership not a string", want: "5.8",
			setup: func(r *room) *pdu.Event {
				return r.build("m.room.member", sk(bob), bob, obj{"membership": 5})
			}},
	})
}

func TestJoinAuthorisedViaSignature(t *testing.T) {
	via := obj{"join_authorised_via_users_server": bob}
	runCases(t, []tc{
		// v6–v7 ignore the key: the public room lets carol in.
		{name: "5.2 accept: signed by the authorising server",
			setup: func(r *room) *pdu.Event {
				return signedBy(r, r.member(carol, carol, "join", via), "c.example", "b.example")
			}},
		{name: "5.2 reject: not signed by the authorising server", wantFor: byVersion(8, "", "5.2"),
			setup: func(r *room) *pdu.Event { return r.member(carol, carol, "join", via) }},
		{name: "5.2 reject: applies to leave too", wantFor: byVersion(8, "", "5.2"),
			setup: func(r *room) *pdu.Event {
				return r.member(bob, bob, "leave", obj{"join_authorised_via_users_server": alice})
			}},
		{name: "5.2 reject: key is not a user ID", wantFor: byVersion(8, "", "5.2"),
			setup: func(r *room) *pdu.Event {
				return r.member(carol, carol, "join", obj{"join_authorised_via_users_server": "b.example"})
			}},
	})
}

func TestJoin(t *testing.T) {
	invited := func(r *room) { r.setMember(alice, carol, "invite") }
	viaBob := obj{"join_authorised_via_users_server": bob}
	restrictedJoin := func(r *room) *pdu.Event {
		return signedBy(r, r.member(carol, carol, "join", viaBob), "c.example", "b.example")
	}
	runCases(t, []tc{
		{name: "5.3.1 accept: creator's first join",
			setup: func(r *room) *pdu.Event {
				r.state = pdu.StateMapOf(r.create)
				r.prev = []string{r.create.ID()}
				return r.member(alice, alice, "join")
			}},
		{name: "5.3.1 accept: creator's first join sent by another user",
			setup: func(r *room) *pdu.Event {
				r.state = pdu.StateMapOf(r.create)
				r.prev = []string{r.create.ID()}
				return r.member(bob, alice, "join")
			}},
		{name: "5.3.1 reject: create is not the only prev event", want: "5.3.7",
			setup: func(r *room) *pdu.Event {
				r.state = pdu.StateMapOf(r.create)
				r.prev = []string{r.create.ID(), r.state.Get("m.room.create", "").ID() + "x"}
				return r.member(alice, alice, "join")
			}},
		{name: "5.3.1 reject: not the creator", want: "5.3.7",
			setup: func(r *room) *pdu.Event {
				r.state = pdu.StateMapOf(r.create)
				r.prev = []string{r.create.ID()}
				return r.member(bob, bob, "join")
			}},
		// v6–v10: the creator is content.creator; v11+: the create sender.
		{name: "5.3.1 creator is content.creator until v10", wantFor: byVersion(11, "", "5.3.7"),
			setup: func(r *room) *pdu.Event {
				r.recreate(obj{"room_version": r.v.ID, "creator": "@zed:a.example"})
				return r.member("@zed:a.example", "@zed:a.example", "join")
			}},
		{name: "5.3.2 reject: joining for someone else", want: "5.3.2",
			setup: func(r *room) *pdu.Event { return r.member(bob, carol, "join") }},
		{name: "5.3.3 reject: banned", want: "5.3.3",
			setup: func(r *room) *pdu.Event {
				r.setMember(alice, carol, "ban")
				return r.member(carol, carol, "join")
			}},
		{name: "5.3.4 accept: invite rule, invited", opts: roomOpts{joinRule: "invite"},
			setup: func(r *room) *pdu.Event { invited(r); return r.member(carol, carol, "join") }},
		{name: "5.3.4 accept: invite rule, already joined", opts: roomOpts{joinRule: "invite"},
			setup: func(r *room) *pdu.Event { return r.member(bob, bob, "join", obj{"displayname": "B"}) }},
		{name: "5.3.4 reject: invite rule, not invited", opts: roomOpts{joinRule: "invite"}, want: "5.3.7",
			setup: func(r *room) *pdu.Event { return r.member(carol, carol, "join") }},
		{name: "5.3.4 knock rule, invited", opts: roomOpts{joinRule: "knock"}, wantFor: byVersion(7, "5.3.7", ""),
			setup: func(r *room) *pdu.Event { invited(r); return r.member(carol, carol, "join") }},
		{name: "5.3.4 reject: knock rule, not invited", opts: roomOpts{joinRule: "knock"}, want: "5.3.7",
			setup: func(r *room) *pdu.Event { return r.member(carol, carol, "join") }},
		{name: "no join rules event acts as invite: joined may rejoin",
			setup: func(r *room) *pdu.Event {
				delete(r.state, pdu.TypeKey{Type: "m.room.join_rules"})
				return r.member(bob, bob, "join")
			}},
		{name: "no join rules event acts as invite: stranger rejected", want: "5.3.7",
			setup: func(r *room) *pdu.Event {
				delete(r.state, pdu.TypeKey{Type: "m.room.join_rules"})
				return r.member(carol, carol, "join")
			}},
		{name: "5.3.5.1 accept: restricted, invited", opts: roomOpts{joinRule: "restricted"},
			wantFor: byVersion(8, "5.3.7", ""),
			setup:   func(r *room) *pdu.Event { invited(r); return r.member(carol, carol, "join") }},
		{name: "5.3.5.3 accept: restricted, authorised by bob", opts: roomOpts{joinRule: "restricted"},
			wantFor: byVersion(8, "5.3.7", ""), checkAll: true, setup: restrictedJoin},
		{name: "5.3.5.2 reject: restricted, no authoriser", from: 8, opts: roomOpts{joinRule: "restricted"},
			want:  "5.3.5.2",
			setup: func(r *room) *pdu.Event { return r.member(carol, carol, "join") }},
		{name: "5.3.5.2 reject: authoriser not joined", from: 8, opts: roomOpts{joinRule: "restricted"},
			want: "5.3.5.2",
			setup: func(r *room) *pdu.Event {
				ev := r.member(carol, carol, "join", obj{"join_authorised_via_users_server": dave})
				return signedBy(r, ev, "c.example", "d.example")
			}},
		{name: "5.3.5.2 reject: authoriser below invite level", from: 8,
			opts: roomOpts{joinRule: "restricted", plExtra: obj{"invite": 60}}, want: "5.3.5.2",
			setup: restrictedJoin},
		{name: "5.3.5 knock_restricted, authorised", opts: roomOpts{joinRule: "knock_restricted"},
			wantFor: byVersion(10, "5.3.7", ""), setup: restrictedJoin},
		{name: "5.3.5.2 reject: knock_restricted, no authoriser", from: 10, opts: roomOpts{joinRule: "knock_restricted"},
			want:  "5.3.5.2",
			setup: func(r *room) *pdu.Event { return r.member(carol, carol, "join") }},
		{name: "5.3.6 accept: public", checkAll: true,
			setup: func(r *room) *pdu.Event { return r.member(carol, carol, "join") }},
		{name: "5.3.7 reject: unknown join rule", opts: roomOpts{joinRule: "private"}, want: "5.3.7",
			setup: func(r *room) *pdu.Event { invited(r); return r.member(carol, carol, "join") }},
	})
}

func TestInvite(t *testing.T) {
	runCases(t, []tc{
		{name: "5.4.4 accept", checkAll: true,
			setup: func(r *room) *pdu.Event { return r.member(alice, carol, "invite") }},
		{name: "5.4.4 accept: re-invite", setup: func(r *room) *pdu.Event {
			r.setMember(alice, carol, "invite")
			return r.member(bob, carol, "invite")
		}},
		{name: "5.4.2 reject: sender not joined", want: "5.4.2",
			setup: func(r *room) *pdu.Event { return r.member(carol, dave, "invite") }},
		{name: "5.4.2 reject: sender only invited", want: "5.4.2",
			setup: func(r *room) *pdu.Event {
				r.setMember(alice, carol, "invite")
				return r.member(carol, dave, "invite")
			}},
		{name: "5.4.3 reject: target joined", want: "5.4.3",
			setup: func(r *room) *pdu.Event { return r.member(alice, bob, "invite") }},
		{name: "5.4.3 reject: target banned", want: "5.4.3",
			setup: func(r *room) *pdu.Event {
				r.setMember(alice, carol, "ban")
				return r.member(alice, carol, "invite")
			}},
		{name: "5.4.5 reject: below invite level", opts: roomOpts{plExtra: obj{"invite": 60}}, want: "5.4.5",
			setup: func(r *room) *pdu.Event { return r.member(bob, carol, "invite") }},
		{name: "5.4.4 accept: at invite level", opts: roomOpts{plExtra: obj{"invite": 50}},
			setup: func(r *room) *pdu.Event { return r.member(bob, carol, "invite") }},
	})
}

func TestLeave(t *testing.T) {
	runCases(t, []tc{
		{name: "5.5.1 accept: leave", checkAll: true,
			setup: func(r *room) *pdu.Event { return r.member(bob, bob, "leave") }},
		{name: "5.5.1 accept: reject invite",
			setup: func(r *room) *pdu.Event {
				r.setMember(alice, carol, "invite")
				return r.member(carol, carol, "leave")
			}},
		{name: "5.5.1 retract knock", wantFor: byVersion(7, "5.5.1", ""),
			setup: func(r *room) *pdu.Event {
				r.forceMember(carol, "knock")
				return r.member(carol, carol, "leave")
			}},
		{name: "5.5.1 reject: never in the room", want: "5.5.1",
			setup: func(r *room) *pdu.Event { return r.member(carol, carol, "leave") }},
		{name: "5.5.1 reject: banned user leaves", want: "5.5.1",
			setup: func(r *room) *pdu.Event {
				r.setMember(alice, carol, "ban")
				return r.member(carol, carol, "leave")
			}},
		{name: "5.5.2 reject: kicker not joined", want: "5.5.2",
			setup: func(r *room) *pdu.Event { return r.member(carol, bob, "leave") }},
		{name: "5.5.3 reject: unban below ban level", opts: roomOpts{plExtra: obj{"ban": 60, "kick": 0}}, want: "5.5.3",
			setup: func(r *room) *pdu.Event {
				r.setMember(alice, carol, "ban")
				return r.member(bob, carol, "leave")
			}},
		{name: "5.5.3 accept: unban at ban level",
			setup: func(r *room) *pdu.Event {
				r.setMember(alice, carol, "ban")
				return r.member(alice, carol, "leave")
			}},
		{name: "5.5.4 accept: kick", setup: func(r *room) *pdu.Event { return r.member(alice, bob, "leave") }},
		{name: "5.5.4 accept: revoke invite", setup: func(r *room) *pdu.Event {
			r.setMember(alice, carol, "invite")
			return r.member(bob, carol, "leave")
		}},
		{name: "5.5.5 reject: kick a higher user", want: "5.5.5",
			setup: func(r *room) *pdu.Event { return r.member(bob, alice, "leave") }},
		{name: "5.5.5 reject: kick an equal user", want: "5.5.5",
			setup: func(r *room) *pdu.Event {
				r.setPL(obj{"users": r.users(obj{bob: 50, dave: 50})})
				r.setMember(dave, dave, "join")
				return r.member(bob, dave, "leave")
			}},
		{name: "5.5.5 reject: below kick level", opts: roomOpts{plExtra: obj{"kick": 60}}, want: "5.5.5",
			setup: func(r *room) *pdu.Event {
				r.setMember(carol, carol, "join")
				return r.member(bob, carol, "leave")
			}},
	})
}

func TestBan(t *testing.T) {
	runCases(t, []tc{
		{name: "5.6.2 accept: ban member", checkAll: true,
			setup: func(r *room) *pdu.Event { return r.member(alice, bob, "ban") }},
		{name: "5.6.2 accept: ban stranger",
			setup: func(r *room) *pdu.Event { return r.member(bob, carol, "ban") }},
		{name: "5.6.1 reject: sender not joined", want: "5.6.1",
			setup: func(r *room) *pdu.Event { return r.member(carol, dave, "ban") }},
		{name: "5.6.3 reject: ban a higher user", want: "5.6.3",
			setup: func(r *room) *pdu.Event { return r.member(bob, alice, "ban") }},
		{name: "5.6.3 reject: below ban level", opts: roomOpts{plExtra: obj{"ban": 60}}, want: "5.6.3",
			setup: func(r *room) *pdu.Event { return r.member(bob, carol, "ban") }},
	})
}

func TestKnock(t *testing.T) {
	knock := func(r *room) *pdu.Event { return r.member(carol, carol, "knock") }
	runCases(t, []tc{
		{name: "5.7.3 accept: knock rule", opts: roomOpts{joinRule: "knock"},
			wantFor: byVersion(7, "5.8", ""), checkAll: true, setup: knock},
		{name: "5.7.3 accept: after leaving", opts: roomOpts{joinRule: "knock"},
			wantFor: byVersion(7, "5.8", ""),
			setup: func(r *room) *pdu.Event {
				r.setMember(bob, bob, "leave")
				return r.member(bob, bob, "knock")
			}},
		{name: "5.7.1 knock_restricted rule", opts: roomOpts{joinRule: "knock_restricted"},
			wantFor: func(v *pdu.RoomVersion) string {
				switch {
				case !v.Knocking:
					return "5.8"
				case !v.KnockRestricted:
					return "5.7.1"
				}
				return ""
			},
			setup: knock},
		{name: "5.7.1 reject: public rule", wantFor: byVersion(7, "5.8", "5.7.1"), setup: knock},
		{name: "5.7.1 reject: invite rule", opts: roomOpts{joinRule: "invite"}, wantFor: byVersion(7, "5.8", "5.7.1"), setup: knock},
		{name: "5.7.2 reject: knock for another", opts: roomOpts{joinRule: "knock"}, wantFor: byVersion(7, "5.8", "5.7.2"),
			setup: func(r *room) *pdu.Event { return r.member(dave, carol, "knock") }},
		{name: "5.7.4 reject: invited", opts: roomOpts{joinRule: "knock"}, wantFor: byVersion(7, "5.8", "5.7.4"),
			setup: func(r *room) *pdu.Event { r.setMember(alice, carol, "invite"); return knock(r) }},
		{name: "5.7.4 reject: joined", opts: roomOpts{joinRule: "knock"}, wantFor: byVersion(7, "5.8", "5.7.4"),
			setup: func(r *room) *pdu.Event { return r.member(bob, bob, "knock") }},
		{name: "5.7.4 reject: banned", opts: roomOpts{joinRule: "knock"}, wantFor: byVersion(7, "5.8", "5.7.4"),
			setup: func(r *room) *pdu.Event { r.setMember(alice, carol, "ban"); return knock(r) }},
	})
}

package auth

import (
	"errors"
	"strings"
	"testing"

	"hearth/services/matrix/pdu"
)

func message(r *room, sender string) *pdu.Event {
	return r.build("m.room.message", nil, sender, obj{"msgtype": "m.text", "body": "hi"})
}

func TestRoomOfCreate(t *testing.T) {
	runCases(t, []tc{
		{name: "2 accept: create in state gives the room", checkAll: true,
			setup: func(r *room) *pdu.Event { return message(r, bob) }},
		{name: "2 reject: no create in state", wantFor: byVersion(12, "3.4", "2"),
			setup: func(r *room) *pdu.Event {
				delete(r.state, pdu.TypeKey{Type: "m.room.create"})
				return message(r, bob)
			}},
		{name: "2 reject: create of another room", wantFor: byVersion(12, "3.5", "2"),
			setup: func(r *room) *pdu.Event {
				other := newCreate(r, alice, obj{"topic": "other"}) // another ID: another v12 room
				if !r.v.RoomIDIsCreateHash {
					other = reSign(t, r.v, other, obj{"room_id": "!other:a.example"}, "a.example")
				}
				r.state[pdu.TypeKey{Type: "m.room.create"}] = other
				return message(r, bob)
			}},
	})
}

func TestFederate(t *testing.T) {
	// setupRoom recreates the room with extra create content, alice joined and
	// the join rule public.
	setupRoom := func(r *room, federate any) {
		c := obj{"room_version": r.v.ID, "m.federate": federate}
		if !r.v.CreatorIsSender {
			c["creator"] = alice
		}
		r.recreate(c)
		r.send("m.room.member", sk(alice), alice, obj{"membership": "join"})
		r.send("m.room.join_rules", sk(""), alice, obj{"join_rule": "public"})
	}
	join := func(federate any, user string) func(r *room) *pdu.Event {
		return func(r *room) *pdu.Event {
			setupRoom(r, federate)
			return r.member(user, user, "join")
		}
	}
	runCases(t, []tc{
		{name: "4 reject: other server in non-federating room", want: "4", setup: join(false, carol)},
		{name: "4 accept: creator's server in non-federating room", setup: join(false, "@al:a.example")},
		{name: "4 accept: m.federate true", setup: join(true, carol)},
		{name: "4 accept: m.federate not a boolean", setup: join("false", carol)},
	})
}

func TestSenderJoined(t *testing.T) {
	runCases(t, []tc{
		{name: "6 accept / 11 allow: member sends", checkAll: true,
			setup: func(r *room) *pdu.Event { return message(r, bob) }},
		{name: "6 reject: stranger sends", want: "6",
			setup: func(r *room) *pdu.Event { return message(r, carol) }},
		{name: "6 reject: invited user sends", want: "6",
			setup: func(r *room) *pdu.Event {
				r.setMember(alice, carol, "invite")
				return message(r, carol)
			}},
		{name: "6 reject: user who left sends", want: "6",
			setup: func(r *room) *pdu.Event {
				r.setMember(bob, bob, "leave")
				return message(r, bob)
			}},
	})
}

func TestThirdPartyInviteEvent(t *testing.T) {
	tpi := func(r *room) *pdu.Event {
		return r.build("m.room.third_party_invite", sk("tok"), bob, obj{"display_name": "c", "public_key": "abc"})
	}
	runCases(t, []tc{
		{name: "7.1 accept: at invite level", checkAll: true, setup: tpi},
		{name: "7.1 reject: below invite level", opts: roomOpts{plExtra: obj{"invite": 60}}, want: "7.1", setup: tpi},
		{name: "7.1 accept: skips the state-event level", opts: roomOpts{plExtra: obj{"state_default": 100}}, setup: tpi},
	})
}

func TestRequiredLevel(t *testing.T) {
	name := func(sender string) func(r *room) *pdu.Event {
		return func(r *room) *pdu.Event {
			return r.build("m.room.name", sk(""), sender, obj{"name": "N"})
		}
	}
	runCases(t, []tc{
		{name: "8 accept: state_default", checkAll: true, setup: name(bob)},
		{name: "8 reject: state below state_default", want: "8",
			setup: func(r *room) *pdu.Event {
				r.setMember(carol, carol, "join")
				return name(carol)(r)
			}},
		{name: "8 reject: events entry", opts: roomOpts{plExtra: obj{"events": obj{"m.room.name": 51}}}, want: "8", setup: name(bob)},
		{name: "8 accept: events entry lowered", opts: roomOpts{plExtra: obj{"events": obj{"m.room.name": 0}, "state_default": 100}},
			setup: name(bob)},
		{name: "8 reject: message below events_default", opts: roomOpts{plExtra: obj{"events_default": 51}}, want: "8",
			setup: func(r *room) *pdu.Event { return message(r, bob) }},
		{name: "8 default without power levels: creator may send state", opts: roomOpts{noPL: true},
			setup: name(alice)},
		{name: "8 default without power levels: others may not", opts: roomOpts{noPL: true}, want: "8",
			setup: name(bob)},
		// The creator is infinite in v12, 100 before.
		{name: "8 creator above 100", opts: roomOpts{plExtra: obj{"events": obj{"m.room.name": 101}}},
			wantFor: byVersion(12, "8", ""), setup: name(alice)},
	})
}

func TestUserStateKey(t *testing.T) {
	state := func(key string) func(r *room) *pdu.Event {
		return func(r *room) *pdu.Event {
			return r.build("org.example.profile", sk(key), bob, obj{"x": 1})
		}
	}
	runCases(t, []tc{
		{name: "9 accept: own user ID", setup: state(bob)},
		{name: "9 accept: not a user ID", setup: state("bob")},
		{name: "9 reject: someone else's user ID", want: "9", setup: state(alice)},
		{name: "9 reject: @ prefix", want: "9", setup: state("@")},
	})
}

func TestErrorValue(t *testing.T) {
	v := pdu.MustVersion("11")
	err := reject(v, "5.3.2", "x %d", 1)
	var ae *Error
	if !errors.As(err, &ae) || ae.Rule != "4.3.2" || ae.Reason != "x 1" {
		t.Fatalf("got %#v", err)
	}
	if got := err.Error(); !strings.Contains(got, "4.3.2") || !strings.Contains(got, "x 1") {
		t.Fatalf("Error() = %q", got)
	}
	if err := Allowed(nil, nil); err == nil {
		t.Fatal("nil event allowed")
	}
}

func TestRuleNumbers(t *testing.T) {
	cases := []struct{ version, rule, want string }{
		{"12", "5.3.2", "5.3.2"},
		{"12", "10.4", "10.4"},
		{"11", "1.2", "1.2"},
		{"11", "3.4", "2.4"},
		{"11", "4", "3"},
		{"11", "5.2", "4.2"},
		{"11", "5.3.5.2", "4.3.5.2"},
		{"11", "5.8", "4.8"},
		{"11", "10.3", "9.3"},
		{"11", "10.5", "9.4"},
		{"11", "10.10.1", "9.9.1"},
		{"11", "11", "10"},
		{"8", "5.3.7", "4.3.7"},
		{"8", "10.3", "9.1"},
		{"8", "10.1", "9.1"},
		{"8", "10.5", "9.2"},
		{"8", "10.9.1", "9.6.1"},
		{"8", "10.11", "9.8"},
		{"7", "5.3.2", "4.2.2"},
		{"7", "5.3.6", "4.2.5"},
		{"7", "5.3.7", "4.2.6"},
		{"7", "5.4.1.7", "4.3.1.7"},
		{"7", "5.5.1", "4.4.1"},
		{"7", "5.6.3", "4.5.3"},
		{"7", "5.7.4", "4.6.4"},
		{"7", "5.8", "4.7"},
		{"6", "5.8", "4.6"},
		{"6", "6", "5"},
		{"6", "9", "8"},
		{"6", "10.7.1", "9.4.1"},
	}
	for _, c := range cases {
		if got := ruleNumber(pdu.MustVersion(c.version), c.rule); got != c.want {
			t.Errorf("v%s rule %s = %s, want %s", c.version, c.rule, got, c.want)
		}
	}
}

package auth

import (
	"testing"

	"hearth/services/matrix/pdu"
)

// citing builds bob's message with the given auth event IDs.
func citing(r *room, ids ...string) *pdu.Event {
	return r.build("m.room.message", nil, bob, obj{"body": "x"}, func(p *pdu.Proto) { p.AuthEvents = ids })
}

func (r *room) id2(typ, key string) string { return r.state.Get(typ, key).ID() }

// checkWith runs CheckAuthEvents with the event's own auth events plus extra.
func checkWith(extra func(r *room) []*pdu.Event) func(r *room, ev *pdu.Event) error {
	return func(r *room, ev *pdu.Event) error {
		evs := r.authEventsOf(ev)
		if extra != nil {
			evs = append(evs, extra(r)...)
		}
		return CheckAuthEvents(ev, evs)
	}
}

// otherRoom is a second room of the same version where bob is joined.
func otherRoom(t testing.TB, v *pdu.RoomVersion) *room {
	o := &room{t: t, v: v, id: "!other:a.example", state: pdu.StateMap{}}
	c := obj{"room_version": v.ID, "topic": "another room"}
	if !v.CreatorIsSender {
		c["creator"] = alice
	}
	o.recreate(c)
	o.send("m.room.member", sk(alice), alice, obj{"membership": "join"})
	o.send("m.room.join_rules", sk(""), alice, obj{"join_rule": "public"})
	o.send("m.room.member", sk(bob), bob, obj{"membership": "join"})
	return o
}

func TestCheckAuthEvents(t *testing.T) {
	own := checkWith(nil)
	msg := func(r *room) *pdu.Event { return message(r, bob) }
	runCases(t, []tc{
		{name: "3 accept", check: own, setup: msg},
		{name: "3 accept: the same event supplied twice", setup: msg,
			check: checkWith(func(r *room) []*pdu.Event { return []*pdu.Event{r.state.Get("m.room.member", bob)} })},
		{name: "3 accept: create event", check: own, setup: func(r *room) *pdu.Event { return newCreate(r, alice, nil) }},
		{name: "3.1 reject: ID listed twice", check: own, want: "3.1", setup: func(r *room) *pdu.Event {
			ids := append(message(r, bob).AuthEvents(), r.id2("m.room.member", bob))
			return citing(r, ids...)
		}},
		{name: "3.1 reject: two events for one state key", check: own, want: "3.1", setup: func(r *room) *pdu.Event {
			old := r.id2("m.room.member", bob)
			r.setMember(bob, bob, "join", obj{"displayname": "Bob"})
			return citing(r, append(message(r, bob).AuthEvents(), old)...)
		}},
		{name: "3.2 reject: join rules for a message", check: own, want: "3.2", setup: func(r *room) *pdu.Event {
			return citing(r, append(message(r, bob).AuthEvents(), r.id2("m.room.join_rules", ""))...)
		}},
		{name: "3.2 reject: another user's membership", check: own, want: "3.2", setup: func(r *room) *pdu.Event {
			return citing(r, append(message(r, bob).AuthEvents(), r.id2("m.room.member", alice))...)
		}},
		{name: "3.2 reject: a message event", check: own, want: "3.2", setup: func(r *room) *pdu.Event {
			m := r.force(message(r, bob))
			return citing(r, append(message(r, bob).AuthEvents(), m.ID())...)
		}},
		{name: "3.2 accept: join rules and target for a join", check: own, opts: roomOpts{joinRule: "invite"},
			setup: func(r *room) *pdu.Event {
				r.setMember(alice, carol, "invite")
				ev := r.member(carol, carol, "join")
				if len(ev.AuthEvents()) != 4-boolInt(r.v.RoomIDIsCreateHash) {
					t.Fatalf("auth events %v", ev.AuthEvents())
				}
				return ev
			}},
		{name: "3.2 create cited", check: own, wantFor: byVersion(12, "", "3.2"), setup: func(r *room) *pdu.Event {
			return citing(r, r.create.ID(), r.id2("m.room.power_levels", ""), r.id2("m.room.member", bob))
		}},
		{name: "3.4 create not cited", check: own, wantFor: byVersion(12, "3.4", ""), setup: func(r *room) *pdu.Event {
			return citing(r, r.id2("m.room.power_levels", ""), r.id2("m.room.member", bob))
		}},
		{name: "3.5 reject: auth event from another room", want: "3.5", check: own, setup: func(r *room) *pdu.Event {
			o := otherRoom(t, r.v)
			for id, e := range o.all {
				r.all[id] = e
			}
			ids := []string{r.id2("m.room.power_levels", ""), o.id2("m.room.member", bob)}
			if !r.v.RoomIDIsCreateHash {
				ids = append(ids, r.create.ID())
			}
			return citing(r, ids...)
		}},
		{name: "3 reject: auth event not supplied", want: "3", setup: msg, check: func(r *room, ev *pdu.Event) error {
			return CheckAuthEvents(ev, r.authEventsOf(ev)[1:])
		}},
		{name: "3 reject: unnamed event supplied", want: "3", setup: msg,
			check: checkWith(func(r *room) []*pdu.Event { return []*pdu.Event{r.state.Get("m.room.join_rules", "")} })},
		{name: "2 the room's create supplied besides", setup: msg, wantFor: byVersion(12, "3", ""),
			check: checkWith(func(r *room) []*pdu.Event {
				if r.v.RoomIDIsCreateHash {
					return []*pdu.Event{r.create}
				}
				return []*pdu.Event{r.state.Get("m.room.join_rules", "")}
			})},
		{name: "2 reject: another room's create supplied besides", from: 12, want: "2", setup: msg,
			check: checkWith(func(r *room) []*pdu.Event { return []*pdu.Event{otherRoom(t, r.v).create} })},
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

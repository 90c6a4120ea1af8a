package auth

import (
	"testing"

	"hearth/services/matrix/pdu"
)

// newCreate builds a create event by sender with the version's usual content
// plus extra (a nil value removes a key), without prev_events unless prev.
func newCreate(r *room, sender string, extra obj, prev ...string) *pdu.Event {
	c := obj{"room_version": r.v.ID}
	if !r.v.CreatorIsSender {
		c["creator"] = sender
	}
	for k, x := range extra {
		if x == nil {
			delete(c, k)
			continue
		}
		c[k] = x
	}
	return r.build("m.room.create", sk(""), sender, c, func(p *pdu.Proto) {
		p.PrevEvents, p.AuthEvents, p.Depth = prev, nil, 1
	})
}

func TestCreate(t *testing.T) {
	runCases(t, []tc{
		{name: "1 accept", checkAll: true,
			setup: func(r *room) *pdu.Event { return newCreate(r, alice, nil) }},
		{name: "1.1 reject: prev_events", want: "1.1",
			setup: func(r *room) *pdu.Event { return newCreate(r, alice, nil, r.prev...) }},
		{name: "1.2 reject: room_id domain is not the sender's", to: 11, want: "1.2",
			setup: func(r *room) *pdu.Event { return newCreate(r, bob, nil) }},
		{name: "1.2 accept: any sender (room ID is the event's hash)", from: 12,
			setup: func(r *room) *pdu.Event { return newCreate(r, bob, nil) }},
		{name: "1.2 reject: v12 create with room_id", from: 12, want: "1.2",
			setup: func(r *room) *pdu.Event {
				return reSign(t, r.v, newCreate(r, alice, nil), obj{"room_id": "!x:a.example"}, "a.example")
			}},
		{name: "1.3 reject: unknown room_version", want: "1.3",
			setup: func(r *room) *pdu.Event { return newCreate(r, alice, obj{"room_version": "99"}) }},
		{name: "1.3 reject: room_version not a string", want: "1.3",
			setup: func(r *room) *pdu.Event { return newCreate(r, alice, obj{"room_version": 12}) }},
		{name: "1.3 accept: no room_version",
			setup: func(r *room) *pdu.Event { return newCreate(r, alice, obj{"room_version": nil}) }},
		{name: "1.4 no creator", wantFor: byVersion(11, "1.4", ""),
			setup: func(r *room) *pdu.Event { return newCreate(r, alice, obj{"creator": nil}) }},
		{name: "1.4 additional_creators not an array", wantFor: byVersion(12, "", "1.4"),
			setup: func(r *room) *pdu.Event { return newCreate(r, alice, obj{"additional_creators": bob}) }},
		{name: "1.4 additional_creators holds a non-string", wantFor: byVersion(12, "", "1.4"),
			setup: func(r *room) *pdu.Event {
				return newCreate(r, alice, obj{"additional_creators": []any{bob, 7}})
			}},
		{name: "1.4 additional_creators holds an invalid user ID", wantFor: byVersion(12, "", "1.4"),
			setup: func(r *room) *pdu.Event {
				return newCreate(r, alice, obj{"additional_creators": []any{bob, "carol"}})
			}},
		{name: "1.4 accept: valid additional_creators",
			setup: func(r *room) *pdu.Event {
				return newCreate(r, alice, obj{"additional_creators": []any{bob, carol}})
			}},
		{name: "1.4 accept: empty additional_creators",
			setup: func(r *room) *pdu.Event {
				return newCreate(r, alice, obj{"additional_creators": []any{}})
			}},
	})
}

package auth

import (
	"testing"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
)

// fuzzKinds are the events FuzzAllowed builds around fuzzed content.
var fuzzKinds = []struct {
	typ      string
	stateKey *string
	sender   string
}{
	{"m.room.member", sk(carol), carol},
	{"m.room.member", sk(bob), alice},
	{"m.room.member", sk(carol), alice},
	{"m.room.member", sk(dave), dave},
	{"m.room.power_levels", sk(""), bob},
	{"m.room.power_levels", sk(""), alice},
	{"m.room.join_rules", sk(""), alice},
	{"m.room.third_party_invite", sk("tok"), bob},
	{"m.room.message", nil, bob},
	{"m.room.create", sk(""), alice},
}

// fuzzRooms are fixed room states, one per supported version: the standard
// room plus a third-party invite, an invited carol and a banned dave.
func fuzzRooms(f *testing.F) []*room {
	var rooms []*room
	for _, id := range pdu.SupportedVersions() {
		r := newRoom(f, pdu.MustVersion(id), roomOpts{plExtra: obj{"events": obj{"m.room.power_levels": 50}}})
		withInvite(r, obj{"public_key": identityKey.PublicBase64()})
		r.setMember(alice, carol, "invite")
		r.setMember(alice, dave, "ban")
		rooms = append(rooms, r)
	}
	return rooms
}

// FuzzAllowed decodes the input as event content, builds events of several
// kinds with it in every room version and checks that Allowed and
// CheckAuthEvents return without panicking.
func FuzzAllowed(f *testing.F) {
	rooms := fuzzRooms(f)
	f.Add([]byte(`{"membership":"join","join_authorised_via_users_server":"@bob:b.example"}`), uint8(0))
	f.Add([]byte(`{"membership":"ban"}`), uint8(1))
	f.Add([]byte(`{"membership":"invite","third_party_invite":{"signed":{"mxid":"@carol:c.example","token":"tok","signatures":{"x":{"ed25519:0":"AAAA"}}}}}`), uint8(2))
	f.Add([]byte(`{"users":{"@bob:b.example":"50"},"ban":" 1 ","events":{"x":1}}`), uint8(4))
	f.Add([]byte(`{"join_rule":"knock_restricted"}`), uint8(6))
	f.Add([]byte(`{"additional_creators":["@bob:b.example",1]}`), uint8(9))
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		content, err := cjson.DecodeObject(data)
		if err != nil {
			return
		}
		k := fuzzKinds[int(kind)%len(fuzzKinds)]
		for _, r := range rooms {
			key := ""
			if k.stateKey != nil {
				key = *k.stateKey
			}
			ev, err := r.v.Build(pdu.Proto{
				Type: k.typ, StateKey: k.stateKey, Sender: k.sender, RoomID: r.id, Content: content,
				PrevEvents: r.prev, AuthEvents: r.v.SelectAuthEvents(k.typ, key, k.sender, content, r.state),
				Depth: r.depth + 1,
			}, pdu.Domain(k.sender), testKey)
			if err != nil {
				continue
			}
			_ = Allowed(ev, r.state)
			_ = CheckAuthEvents(ev, r.authEventsOf(ev))
		}
	})
}

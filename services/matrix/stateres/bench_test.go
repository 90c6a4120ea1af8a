package stateres

import (
	"fmt"
	"maps"
	"sync"
	"testing"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
)

// chain builds a linear room quickly (no state resolution per event), with
// forks made by copying the builder.
type chain struct {
	tb     testing.TB
	v      *pdu.RoomVersion
	roomID string
	all    map[string]*pdu.Event
	state  pdu.StateMap
	prev   string
	depth  int64
	ts     int64
}

func (c *chain) send(typ string, stateKey *string, sender string, content obj) *pdu.Event {
	c.tb.Helper()
	body := cjson.MustFromGo(content)
	key := ""
	if stateKey != nil {
		key = *stateKey
	}
	var prev []string
	if c.prev != "" {
		prev = []string{c.prev}
	}
	c.depth++
	c.ts++
	ev, err := c.v.Build(pdu.Proto{
		Type: typ, StateKey: stateKey, Sender: sender, RoomID: c.roomID, Content: body,
		PrevEvents: prev, AuthEvents: c.v.SelectAuthEvents(typ, key, sender, body, c.state),
		Depth: c.depth, OriginServerTS: c.ts,
	}, "example.com", testKey)
	if err != nil {
		c.tb.Fatal(err)
	}
	if c.v.RoomIDIsCreateHash && typ == "m.room.create" {
		c.roomID = ev.RoomID()
	}
	c.all[ev.ID()] = ev
	if ev.IsState() {
		c.state[ev.Key()] = ev
	}
	c.prev = ev.ID()
	return ev
}

func (c *chain) fork() *chain {
	f := *c
	f.state = maps.Clone(c.state)
	return &f
}

func (c *chain) ids() StateIDs {
	out := make(StateIDs, len(c.state))
	for k, ev := range c.state {
		out[k] = ev.ID()
	}
	return out
}

// largeRoom: alice creates a public room that 10,000 users join one after
// the other; then two forks of 1,000 state events each: a power-levels
// change, a topic, and for 998 users a kick in one fork and a displayname
// change in the other.
type largeRoom struct {
	in       Input
	conflict int
}

var (
	largeMu    sync.Mutex
	largeCache = map[string]*largeRoom{} // by room version
)

func buildLargeRoom(tb testing.TB, version string) *largeRoom {
	largeMu.Lock()
	defer largeMu.Unlock()
	if r, ok := largeCache[version]; ok {
		return r
	}
	const members, forkSize = 10_000, 1_000
	v := pdu.MustVersion(version)
	c := &chain{tb: tb, v: v, roomID: "!large:example.com", all: map[string]*pdu.Event{}, state: pdu.StateMap{}}
	users := func(m obj) obj {
		out := obj{}
		if !v.PrivilegedCreators {
			out[alice] = 100
		}
		maps.Copy(out, m)
		return out
	}
	create := obj{"room_version": version}
	if !v.CreatorIsSender {
		create["creator"] = alice
	}
	c.send("m.room.create", sk(""), alice, create)
	c.send("m.room.member", sk(alice), alice, obj{"membership": "join"})
	c.send("m.room.power_levels", sk(""), alice, obj{"users": users(nil)})
	c.send("m.room.join_rules", sk(""), alice, obj{"join_rule": "public"})
	user := func(i int) string { return fmt.Sprintf("@u%05d:example.com", i) }
	for i := range members {
		c.send("m.room.member", sk(user(i)), user(i), obj{"membership": "join"})
	}
	a, b := c.fork(), c.fork()
	a.send("m.room.power_levels", sk(""), alice, obj{"users": users(obj{bob: 50})})
	b.send("m.room.power_levels", sk(""), alice, obj{"users": users(obj{charlie: 50})})
	a.send("m.room.topic", sk(""), alice, obj{"topic": "fork a"})
	b.send("m.room.topic", sk(""), alice, obj{"topic": "fork b"})
	half := (forkSize - 2) / 2
	for i := range half {
		a.send("m.room.member", sk(user(i)), alice, obj{"membership": "leave"})
		b.send("m.room.member", sk(user(i)), user(i), obj{"membership": "join", "displayname": "b"})
	}
	for i := half; i < 2*half; i++ {
		a.send("m.room.member", sk(user(i)), user(i), obj{"membership": "join", "displayname": "a"})
		b.send("m.room.member", sk(user(i)), alice, obj{"membership": "leave"})
	}
	all := maps.Clone(a.all)
	maps.Copy(all, b.all)
	states := []StateIDs{a.ids(), b.ids()}
	_, conflicted := split(states)
	r := &largeRoom{
		in: Input{Version: v, States: states, Event: func(id string) (*pdu.Event, error) {
			if ev, ok := all[id]; ok {
				return ev, nil
			}
			return nil, fmt.Errorf("no event %s", id)
		}},
		conflict: len(conflicted),
	}
	largeCache[version] = r
	return r
}

func TestLargeRoom(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 12,000 signed events")
	}
	for _, version := range []string{"11", "12"} {
		r := buildLargeRoom(t, version)
		got, err := Resolve(r.in)
		if err != nil {
			t.Fatal(err)
		}
		// 10,001 members, the create event, power levels, join rules, topic.
		if len(got) != 10_005 || r.conflict != 2*1_000 {
			t.Fatalf("v%s: %d keys, %d conflicted events", version, len(got), r.conflict)
		}
	}
}

func BenchmarkResolveLarge(b *testing.B) {
	for _, version := range []string{"11", "12"} {
		b.Run("v"+version, func(b *testing.B) {
			r := buildLargeRoom(b, version)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := Resolve(r.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

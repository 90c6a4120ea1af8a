package auth

import (
	"testing"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
	"hearth/services/matrix/signing"
)

// Users of the test rooms. alice creates every room; each user has a server
// of their own.
const (
	alice = "@alice:a.example"
	bob   = "@bob:b.example"
	carol = "@carol:c.example"
	dave  = "@dave:d.example"
	eve   = "@eve:e.example"
)

// testKey is the signing key of the spec's test vectors; every test server
// signs with it.
var testKey = mustKey("ed25519:1", "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1")

func mustKey(id, seed string) signing.Key {
	b, err := signing.DecodeBase64(seed)
	if err != nil {
		panic(err)
	}
	k, err := signing.KeyFromSeed(id, b)
	if err != nil {
		panic(err)
	}
	return k
}

func sk(s string) *string { return &s }

// obj is a JSON object literal for tests.
type obj = map[string]any

// room builds a test room event by event, keeping its current state.
type room struct {
	t      testing.TB
	v      *pdu.RoomVersion
	id     string
	create *pdu.Event
	state  pdu.StateMap
	prev   []string
	depth  int64
	all    map[string]*pdu.Event // every event applied, by ID
}

// roomOpts shape the standard room.
type roomOpts struct {
	createExtra obj    // extra create content (v6–v10 may override creator)
	noPL        bool   // skip the power-levels event
	joinRule    string // "" = public
	plExtra     obj    // extra power-levels content besides users
}

// newRoom builds the standard room: alice creates it and joins, sets power
// levels (alice 100 before v12, where she is a creator; bob 50), join rule
// public, and bob joins.
func newRoom(t testing.TB, v *pdu.RoomVersion, o roomOpts) *room {
	t.Helper()
	r := &room{t: t, v: v, id: "!room:a.example", state: pdu.StateMap{}}
	content := obj{"room_version": v.ID}
	if !v.CreatorIsSender {
		content["creator"] = alice
	}
	for k, x := range o.createExtra {
		content[k] = x
	}
	r.create = r.send("m.room.create", sk(""), alice, content)
	if v.RoomIDIsCreateHash {
		r.id = r.create.RoomID()
	}
	r.send("m.room.member", sk(alice), alice, obj{"membership": "join"})
	if !o.noPL {
		pl := obj{"users": r.users(obj{bob: 50})}
		for k, x := range o.plExtra {
			pl[k] = x
		}
		r.send("m.room.power_levels", sk(""), alice, pl)
	}
	rule := o.joinRule
	if rule == "" {
		rule = "public"
	}
	r.send("m.room.join_rules", sk(""), alice, obj{"join_rule": "public"})
	r.send("m.room.member", sk(bob), bob, obj{"membership": "join"})
	if rule != "public" {
		r.send("m.room.join_rules", sk(""), alice, obj{"join_rule": rule})
	}
	return r
}

// recreate starts the room afresh with only a create event by alice.
func (r *room) recreate(content obj) {
	r.t.Helper()
	r.state, r.prev, r.depth = pdu.StateMap{}, nil, 0
	r.create = r.force(r.build("m.room.create", sk(""), alice, content))
	if r.v.RoomIDIsCreateHash {
		r.id = r.create.RoomID()
	}
}

// users is a power-levels users map with alice at 100 before v12 (in v12 she
// is a creator and may not be listed).
func (r *room) users(m obj) obj {
	out := obj{}
	if !r.v.PrivilegedCreators {
		out[alice] = 100
	}
	for k, x := range m {
		out[k] = x
	}
	return out
}

// build makes a signed event on top of the room without applying it. Auth
// events are selected from the current state, prev_events is the last
// applied event. edit, if given, may change the proto first.
func (r *room) build(typ string, stateKey *string, sender string, content any, edit ...func(*pdu.Proto)) *pdu.Event {
	r.t.Helper()
	c := cjson.MustFromGo(content)
	key := ""
	if stateKey != nil {
		key = *stateKey
	}
	p := pdu.Proto{
		Type: typ, StateKey: stateKey, Sender: sender, RoomID: r.id, Content: c,
		PrevEvents:     append([]string(nil), r.prev...),
		AuthEvents:     r.v.SelectAuthEvents(typ, key, sender, c, r.state),
		Depth:          r.depth + 1,
		OriginServerTS: 1700000000000 + r.depth,
	}
	for _, f := range edit {
		f(&p)
	}
	ev, err := r.v.Build(p, pdu.Domain(sender), testKey)
	if err != nil {
		r.t.Fatalf("build %s: %v", typ, err)
	}
	return ev
}

// apply adds an event to the room, which must allow it.
func (r *room) apply(ev *pdu.Event) *pdu.Event {
	r.t.Helper()
	if err := Allowed(ev, r.state); err != nil {
		r.t.Fatalf("setting up: %s %s by %s: %v", ev.Type(), ev.Content(), ev.Sender(), err)
	}
	return r.force(ev)
}

// force adds an event to the room without checking it.
func (r *room) force(ev *pdu.Event) *pdu.Event {
	if r.all == nil {
		r.all = map[string]*pdu.Event{}
	}
	r.all[ev.ID()] = ev
	if ev.IsState() {
		r.state[ev.Key()] = ev
	}
	r.prev = []string{ev.ID()}
	r.depth++
	return ev
}

func (r *room) send(typ string, stateKey *string, sender string, content any) *pdu.Event {
	r.t.Helper()
	return r.apply(r.build(typ, stateKey, sender, content))
}

// member builds a membership event of sender for target.
func (r *room) member(sender, target, membership string, extra ...obj) *pdu.Event {
	r.t.Helper()
	c := obj{"membership": membership}
	for _, e := range extra {
		for k, x := range e {
			c[k] = x
		}
	}
	return r.build("m.room.member", sk(target), sender, c)
}

// setMember applies a membership event, which must be allowed.
func (r *room) setMember(sender, target, membership string, extra ...obj) {
	r.t.Helper()
	r.apply(r.member(sender, target, membership, extra...))
}

// forceMember puts a membership into the state without checking it (for
// states a room version could not reach itself).
func (r *room) forceMember(target, membership string) {
	r.t.Helper()
	r.force(r.member(target, target, membership))
}

// pl builds a power-levels event by sender.
func (r *room) pl(sender string, content obj) *pdu.Event {
	r.t.Helper()
	return r.build("m.room.power_levels", sk(""), sender, content)
}

// setPL applies alice's power-levels event.
func (r *room) setPL(content obj) {
	r.t.Helper()
	r.apply(r.pl(alice, content))
}

// reSign replaces top-level keys of a built event and signs it again for the
// given servers.
func reSign(t testing.TB, v *pdu.RoomVersion, ev *pdu.Event, set obj, servers ...string) *pdu.Event {
	t.Helper()
	o := ev.Object().With("signatures", cjson.EmptyObject())
	for k, x := range set {
		o = o.With(k, cjson.MustFromGo(x))
	}
	for _, s := range servers {
		var err error
		if o, err = v.SignEvent(o, s, testKey); err != nil {
			t.Fatal(err)
		}
	}
	out, err := pdu.FromObject(v, o)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

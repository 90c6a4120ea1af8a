package stateres

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"hearth/services/matrix/auth"
	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
	"hearth/services/matrix/signing"
)

// The users of the test rooms; alice creates every room.
const (
	alice   = "@alice:example.com"
	bob     = "@bob:example.com"
	charlie = "@charlie:example.com"
	evelyn  = "@evelyn:example.org"
	zara    = "@zara:example.org"
)

// testKey is the signing key of the spec's test vectors.
var testKey = func() signing.Key {
	seed, err := signing.DecodeBase64("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1")
	if err != nil {
		panic(err)
	}
	k, err := signing.KeyFromSeed("ed25519:1", seed)
	if err != nil {
		panic(err)
	}
	return k
}()

type obj = map[string]any

func sk(s string) *string { return &s }

// dag builds a room as a DAG of real signed events named by label. Each
// event's state before it is the resolution (by Resolve) of the states after
// its prev events, and its auth events are selected from that state, so a
// scenario is written as events with explicit prev events and timestamps.
type dag struct {
	t      testing.TB
	v      *pdu.RoomVersion
	roomID string
	byID   map[string]*pdu.Event
	label  map[string]*pdu.Event
	after  map[string]StateIDs // S′(E) by label
	names  map[string]string   // label by event ID, for messages
}

func newDAG(t testing.TB, v *pdu.RoomVersion) *dag {
	return &dag{
		t: t, v: v, roomID: "!room:example.com",
		byID:  map[string]*pdu.Event{},
		label: map[string]*pdu.Event{},
		after: map[string]StateIDs{},
		names: map[string]string{},
	}
}

// fetch is the Input.Event of the DAG's events.
func (d *dag) fetch(id string) (*pdu.Event, error) {
	if ev, ok := d.byID[id]; ok {
		return ev, nil
	}
	return nil, errors.New("not in the test DAG")
}

func (d *dag) input(states ...StateIDs) Input {
	return Input{Version: d.v, States: states, Event: d.fetch}
}

// stateOf is S′ of the labelled events.
func (d *dag) stateOf(labels ...string) []StateIDs {
	d.t.Helper()
	out := make([]StateIDs, len(labels))
	for i, l := range labels {
		s, ok := d.after[l]
		if !ok {
			d.t.Fatalf("no event %q", l)
		}
		out[i] = s
	}
	return out
}

// resolve resolves the states after the labelled events.
func (d *dag) resolve(labels ...string) StateIDs {
	d.t.Helper()
	got, err := Resolve(d.input(d.stateOf(labels...)...))
	if err != nil {
		d.t.Fatalf("resolving after %v: %v", labels, err)
	}
	return got
}

// users is a power-levels users map: alice at 100 before v12 (in v12 she is
// a creator and may not be listed) plus m.
func (d *dag) users(m obj) obj {
	out := obj{}
	if !d.v.PrivilegedCreators {
		out[alice] = 100
	}
	maps.Copy(out, m)
	return out
}

// spec describes one event to add.
type spec struct {
	label    string
	sender   string
	typ      string
	stateKey *string // nil: a message event
	content  obj
	ts       int64
	prev     []string // labels
	// mayFail: the event need not be allowed against the state before it.
	mayFail bool
}

// add builds the event, checks it is allowed against the state before it
// and records the state after it.
func (d *dag) add(s spec) *pdu.Event {
	d.t.Helper()
	if _, dup := d.label[s.label]; dup {
		d.t.Fatalf("label %q used twice", s.label)
	}
	var before StateIDs
	var prevIDs []string
	var depth int64
	if len(s.prev) > 0 {
		var err error
		before, err = Resolve(d.input(d.stateOf(s.prev...)...))
		if err != nil {
			d.t.Fatalf("%s: state before: %v", s.label, err)
		}
		for _, p := range s.prev {
			pe := d.label[p]
			prevIDs = append(prevIDs, pe.ID())
			depth = max(depth, pe.Depth())
		}
	}
	state := d.stateMap(before)
	content := cjson.MustFromGo(s.content)
	key := ""
	if s.stateKey != nil {
		key = *s.stateKey
	}
	ev, err := d.v.Build(pdu.Proto{
		Type: s.typ, StateKey: s.stateKey, Sender: s.sender, RoomID: d.roomID,
		Content:        content,
		PrevEvents:     prevIDs,
		AuthEvents:     d.v.SelectAuthEvents(s.typ, key, s.sender, content, state),
		Depth:          depth + 1,
		OriginServerTS: s.ts,
	}, pdu.Domain(s.sender), testKey)
	if err != nil {
		d.t.Fatalf("%s: build: %v", s.label, err)
	}
	if d.v.RoomIDIsCreateHash && s.typ == "m.room.create" {
		d.roomID = ev.RoomID()
	}
	if err := auth.Allowed(ev, state); err != nil && !s.mayFail {
		d.t.Fatalf("%s: not allowed against the state before it: %v", s.label, err)
	}
	after := maps.Clone(before)
	if after == nil {
		after = StateIDs{}
	}
	if ev.IsState() {
		after[ev.Key()] = ev.ID()
	}
	d.byID[ev.ID()] = ev
	d.label[s.label] = ev
	d.after[s.label] = after
	d.names[ev.ID()] = s.label
	return ev
}

func (d *dag) stateMap(s StateIDs) pdu.StateMap {
	m := make(pdu.StateMap, len(s))
	for k, id := range s {
		m[k] = d.byID[id]
	}
	return m
}

// id is the event ID of a label.
func (d *dag) id(label string) string {
	d.t.Helper()
	ev, ok := d.label[label]
	if !ok {
		d.t.Fatalf("no event %q", label)
	}
	return ev.ID()
}

// Shorthands for the events of the scenarios.

func (d *dag) member(label, sender, target, membership string, ts int64, prev ...string) {
	d.t.Helper()
	d.add(spec{label: label, sender: sender, typ: "m.room.member", stateKey: sk(target),
		content: obj{"membership": membership}, ts: ts, prev: prev})
}

func (d *dag) pl(label, sender string, content obj, ts int64, prev ...string) {
	d.t.Helper()
	d.add(spec{label: label, sender: sender, typ: "m.room.power_levels", stateKey: sk(""),
		content: content, ts: ts, prev: prev})
}

func (d *dag) joinRule(label, sender, rule string, ts int64, prev ...string) {
	d.t.Helper()
	d.add(spec{label: label, sender: sender, typ: "m.room.join_rules", stateKey: sk(""),
		content: obj{"join_rule": rule}, ts: ts, prev: prev})
}

func (d *dag) topic(label, sender string, ts int64, prev ...string) {
	d.t.Helper()
	d.add(spec{label: label, sender: sender, typ: "m.room.topic", stateKey: sk(""),
		content: obj{"topic": label}, ts: ts, prev: prev})
}

func (d *dag) message(label, sender string, ts int64, prev ...string) {
	d.t.Helper()
	d.add(spec{label: label, sender: sender, typ: "m.room.message",
		content: obj{"body": label, "msgtype": "m.text"}, ts: ts, prev: prev})
}

// initial builds the room every classic scenario starts from, as a chain:
// CREATE (alice), IMA (alice joins), IPOWER (alice 100, or creator in v12),
// IJR (public), IMB (bob joins), IMC (charlie joins). Timestamps are 1 to 6;
// scenario events use larger ones.
func (d *dag) initial() {
	d.t.Helper()
	create := obj{"room_version": d.v.ID}
	if !d.v.CreatorIsSender {
		create["creator"] = alice
	}
	d.add(spec{label: "CREATE", sender: alice, typ: "m.room.create", stateKey: sk(""), content: create, ts: 1})
	d.member("IMA", alice, alice, "join", 2, "CREATE")
	d.pl("IPOWER", alice, obj{"users": d.users(nil)}, 3, "IMA")
	d.joinRule("IJR", alice, "public", 4, "IPOWER")
	d.member("IMB", bob, bob, "join", 5, "IJR")
	d.member("IMC", charlie, charlie, "join", 6, "IMB")
}

// Keys of the state the scenarios check.
var (
	keyPL     = pdu.TypeKey{Type: "m.room.power_levels"}
	keyJR     = pdu.TypeKey{Type: "m.room.join_rules"}
	keyTopic  = pdu.TypeKey{Type: "m.room.topic"}
	keyCreate = pdu.TypeKey{Type: "m.room.create"}
)

func keyMember(user string) pdu.TypeKey { return pdu.TypeKey{Type: "m.room.member", StateKey: user} }

// expect checks the resolved state at the given keys: each names the label
// of the expected event, or "" when the key must be absent.
func (d *dag) expect(got StateIDs, want map[pdu.TypeKey]string) {
	d.t.Helper()
	for _, k := range sortedKeys(want) {
		label := want[k]
		id, ok := got[k]
		switch {
		case label == "" && ok:
			d.t.Errorf("(%s, %q) = %s, want absent", k.Type, k.StateKey, d.name(id))
		case label != "" && id != d.id(label):
			d.t.Errorf("(%s, %q) = %s, want %s", k.Type, k.StateKey, d.name(id), label)
		}
	}
}

// name is the label of an event ID, for messages.
func (d *dag) name(id string) string {
	if id == "" {
		return "<absent>"
	}
	if l, ok := d.names[id]; ok {
		return l
	}
	return id
}

func sortedKeys[V any](m map[pdu.TypeKey]V) []pdu.TypeKey {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b pdu.TypeKey) int {
		if a.Type != b.Type {
			if a.Type < b.Type {
				return -1
			}
			return 1
		}
		switch {
		case a.StateKey < b.StateKey:
			return -1
		case a.StateKey > b.StateKey:
			return 1
		}
		return 0
	})
	return keys
}

// describe prints a state by labels, for failure messages.
func (d *dag) describe(s StateIDs) string {
	out := ""
	for _, k := range sortedKeys(s) {
		out += fmt.Sprintf("(%s,%q)=%s ", k.Type, k.StateKey, d.name(s[k]))
	}
	return out
}

// forVersions runs f as a subtest for each room version: 10 and 11 use state
// resolution v2, 12 uses v2.1.
func forVersions(t *testing.T, f func(t *testing.T, d *dag)) {
	for _, id := range []string{"10", "11", "12"} {
		t.Run("v"+id, func(t *testing.T) {
			f(t, newDAG(t, pdu.MustVersion(id)))
		})
	}
}

package stateres

import (
	"maps"
	"testing"

	"hearth/services/matrix/pdu"
)

// The state resets MSC4297 describes, which state resolution v2.1 fixes. In
// both, one input state was obtained by partial synchronisation and holds an
// outdated event while the auth chains agree on the newer one. Each scenario
// runs once under room 11 (v2: the reset) and once under room 12 (v2.1: no
// reset).

// problemA: Alice sets the join rules twice (JR1, then JR2) and then leaves.
// A stale copy of the state still has JR1. Both states agree Alice left, so
// v2 starts the replay of JR1 and JR2 from a state where she is not joined,
// both fail, and the room loses its join rules. v2.1 starts from an empty
// state, the replay reads Alice's membership from the events' own auth
// events, and JR2 survives.
func problemA(t *testing.T, d *dag) (current, stale StateIDs) {
	d.add(spec{label: "CREATE", sender: alice, typ: "m.room.create", stateKey: sk(""), content: createContent(d), ts: 1})
	d.member("IMA", alice, alice, "join", 2, "CREATE")
	d.pl("IPOWER", alice, obj{"users": d.users(nil)}, 3, "IMA")
	d.joinRule("JR1", alice, "public", 4, "IPOWER")
	d.member("IMB", bob, bob, "join", 5, "JR1")
	d.joinRule("JR2", alice, "knock", 6, "IMB")
	d.member("LA", alice, alice, "leave", 7, "JR2")
	current = d.after["LA"]
	stale = maps.Clone(current)
	stale[keyJR] = d.id("JR1")
	return current, stale
}

func TestMSC4297ProblemA(t *testing.T) {
	for _, c := range []struct {
		version string
		want    string
	}{
		{"11", ""},    // v2: the join rules are reset away
		{"10", ""},    // v2
		{"12", "JR2"}, // v2.1
	} {
		t.Run("v"+c.version, func(t *testing.T) {
			d := newDAG(t, pdu.MustVersion(c.version))
			current, stale := problemA(t, d)
			got, err := Resolve(d.input(current, stale))
			if err != nil {
				t.Fatal(err)
			}
			d.expect(got, map[pdu.TypeKey]string{
				keyJR: c.want, keyMember(alice): "LA", keyMember(bob): "IMB", keyPL: "IPOWER",
			})
		})
	}
}

// problemB: Alice promotes Bob (PL1), Bob promotes Charlie (PL2), Charlie
// joins. A stale copy of the state still has the first power levels PL0, but
// Charlie's join in it cites PL2, so both auth chains hold PL0, PL1 and PL2
// and the auth difference is empty. v2 replays only PL0 and PL2: PL2 fails
// under PL0 and the promotions are lost. v2.1 adds PL1, which lies on the
// auth path from PL2 to PL0 (the conflicted state subgraph), and PL2 stands.
func problemB(t *testing.T, d *dag) (current, stale StateIDs) {
	d.add(spec{label: "CREATE", sender: alice, typ: "m.room.create", stateKey: sk(""), content: createContent(d), ts: 1})
	d.member("IMA", alice, alice, "join", 2, "CREATE")
	d.pl("PL0", alice, obj{"users": d.users(nil)}, 3, "IMA")
	d.joinRule("IJR", alice, "public", 4, "PL0")
	d.member("IMB", bob, bob, "join", 5, "IJR")
	d.pl("PL1", alice, obj{"users": d.users(obj{bob: 100})}, 6, "IMB")
	d.pl("PL2", bob, obj{"users": d.users(obj{bob: 100, charlie: 50})}, 7, "PL1")
	d.member("IMC", charlie, charlie, "join", 8, "PL2")
	current = d.after["IMC"]
	stale = maps.Clone(current)
	stale[keyPL] = d.id("PL0")
	return current, stale
}

func TestMSC4297ProblemB(t *testing.T) {
	for _, c := range []struct {
		version string
		want    string
	}{
		{"11", "PL0"}, // v2: reset to the first power levels
		{"10", "PL0"}, // v2
		{"12", "PL2"}, // v2.1
	} {
		t.Run("v"+c.version, func(t *testing.T) {
			d := newDAG(t, pdu.MustVersion(c.version))
			current, stale := problemB(t, d)
			got, err := Resolve(d.input(stale, current))
			if err != nil {
				t.Fatal(err)
			}
			d.expect(got, map[pdu.TypeKey]string{keyPL: c.want, keyMember(charlie): "IMC"})
		})
	}
}

// TestConflictedSubgraph checks the subgraph of problem B directly: PL1 is
// on the path PL2 → PL1 → PL0, and Bob's join and the join rules are on the
// path PL2 → IMB → IJR → PL0 (Bob's join cites both).
func TestConflictedSubgraph(t *testing.T) {
	d := newDAG(t, pdu.MustVersion("12"))
	current, stale := problemB(t, d)
	unconflicted, conflicted := split([]StateIDs{current, stale})
	r := newResolver(d.input(current, stale))
	if err := r.checkStates(); err != nil {
		t.Fatal(err)
	}
	isC := map[string]bool{}
	for _, id := range conflicted {
		isC[id] = true
	}
	sub, err := r.conflictedSubgraph(conflicted, isC)
	if err != nil {
		t.Fatal(err)
	}
	wantSub := map[string]bool{d.id("PL1"): true, d.id("IMB"): true, d.id("IJR"): true}
	if len(sub) != len(wantSub) {
		t.Fatalf("subgraph = %v, want PL1, IMB, IJR", names(d, sub))
	}
	for _, id := range sub {
		if !wantSub[id] {
			t.Fatalf("subgraph = %v, want PL1, IMB, IJR", names(d, sub))
		}
	}
	full, err := r.fullConflictedSet(unconflicted, conflicted)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"PL0", "PL1", "PL2", "IMB", "IJR"}
	if len(full) != len(want) {
		t.Fatalf("full conflicted set has %d events, want %v", len(full), want)
	}
	for _, l := range want {
		if !full[d.id(l)] {
			t.Fatalf("full conflicted set lacks %s", l)
		}
	}
}

// Rejected auth events are not used in the iterative auth checks: with
// Alice's join marked rejected, problem A's join rules cannot be replayed in
// v2.1 either.
func TestRejectedAuthEventsNotUsed(t *testing.T) {
	d := newDAG(t, pdu.MustVersion("12"))
	current, stale := problemA(t, d)
	in := d.input(current, stale)
	ima := d.id("IMA")
	in.Rejected = func(id string) bool { return id == ima }
	got, err := Resolve(in)
	if err != nil {
		t.Fatal(err)
	}
	d.expect(got, map[pdu.TypeKey]string{keyJR: ""})
}

func names(d *dag, ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = d.name(id)
	}
	return out
}

// A rejected event in the partial state is not used to authorise either: in
// problem A under v2, with Alice's leave marked rejected, the replay reads her
// membership from the join rules' own auth events and JR2 survives.
func TestRejectedPartialStateNotUsed(t *testing.T) {
	d := newDAG(t, pdu.MustVersion("11"))
	current, stale := problemA(t, d)
	in := d.input(current, stale)
	la := d.id("LA")
	in.Rejected = func(id string) bool { return id == la }
	got, err := Resolve(in)
	if err != nil {
		t.Fatal(err)
	}
	d.expect(got, map[pdu.TypeKey]string{keyJR: "JR2", keyMember(alice): "LA"})
}

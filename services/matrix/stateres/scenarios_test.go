package stateres

import (
	"testing"

	"hearth/services/matrix/pdu"
)

// The classic scenarios of state resolution v2, each written as a DAG on top
// of the initial room (CREATE, IMA, IPOWER, IJR, IMB, IMC). They resolve the
// same way under v2 (rooms 10, 11) and v2.1 (room 12).

// Alice bans Bob while, concurrently, Bob sends power levels: the ban is
// ordered first (Alice has more power) and Bob's event then fails.
func TestBanVsPowerLevels(t *testing.T) {
	forVersions(t, func(t *testing.T, d *dag) {
		d.initial()
		d.pl("PA", alice, obj{"users": d.users(obj{bob: 50})}, 10, "IMC")
		d.member("MA", alice, alice, "join", 11, "PA")
		d.member("MB", alice, bob, "ban", 12, "MA")
		d.pl("PB", bob, obj{"users": d.users(obj{bob: 50})}, 13, "PA")
		d.expect(d.resolve("MB", "PB"), map[pdu.TypeKey]string{
			keyPL: "PA", keyMember(alice): "MA", keyMember(bob): "MB",
		})
	})
}

// Evelyn joins while the room is public, concurrently with Alice making it
// invite-only: the join rules are replayed first and the join fails.
func TestJoinRuleEvasion(t *testing.T) {
	forVersions(t, func(t *testing.T, d *dag) {
		d.initial()
		d.joinRule("JR", alice, "invite", 10, "IMC")
		d.member("ME", evelyn, evelyn, "join", 11, "IMC")
		d.expect(d.resolve("JR", "ME"), map[pdu.TypeKey]string{
			keyJR: "JR", keyMember(evelyn): "",
		})
	})
}

// A chain of power-levels changes by less and less powerful users against a
// stale fork: the whole chain is replayed and the latest wins.
func TestOfftopicPowerLevels(t *testing.T) {
	forVersions(t, func(t *testing.T, d *dag) {
		d.initial()
		d.pl("PA", alice, obj{"users": d.users(obj{bob: 50})}, 10, "IMC")
		d.pl("PB", bob, obj{"users": d.users(obj{bob: 50, charlie: 50})}, 11, "PA")
		d.pl("PC", charlie, obj{"users": d.users(obj{bob: 50, charlie: 0})}, 12, "PB")
		d.expect(d.resolve("PC", "PA"), map[pdu.TypeKey]string{keyPL: "PC"})
		d.expect(d.resolve("PA", "PC"), map[pdu.TypeKey]string{keyPL: "PC"})
	})
}

// Alice demotes Bob while Bob changes the power levels and the topic: Bob's
// events fail and Alice's topic stays.
func TestTopicBasic(t *testing.T) {
	forVersions(t, func(t *testing.T, d *dag) {
		d.initial()
		d.topic("T1", alice, 10, "IMC")
		d.pl("PA1", alice, obj{"users": d.users(obj{bob: 50})}, 11, "T1")
		d.topic("T2", alice, 12, "PA1")
		d.pl("PA2", alice, obj{"users": d.users(obj{bob: 0})}, 13, "T2")
		d.pl("PB", bob, obj{"users": d.users(obj{bob: 50})}, 14, "PA1")
		d.topic("T3", bob, 15, "PB")
		d.expect(d.resolve("PA2", "T3"), map[pdu.TypeKey]string{keyPL: "PA2", keyTopic: "T2"})
	})
}

// Bob's topic is followed by his ban; the other fork still has the first
// topic. The topic must not be Bob's: it resets to T1.
func TestTopicReset(t *testing.T) {
	forVersions(t, func(t *testing.T, d *dag) {
		d.initial()
		d.topic("T1", alice, 10, "IMC")
		d.pl("PA", alice, obj{"users": d.users(obj{bob: 50})}, 11, "T1")
		d.topic("T2", bob, 12, "PA")
		d.member("MB", alice, bob, "ban", 13, "T2")
		d.expect(d.resolve("MB", "T1"), map[pdu.TypeKey]string{
			keyTopic: "T1", keyMember(bob): "MB", keyPL: "PA",
		})
	})
}

// TestTopic extends TestTopicBasic: the forks merge in a message, after which
// Alice sets the topic again.
func TestTopic(t *testing.T) {
	forVersions(t, func(t *testing.T, d *dag) {
		d.initial()
		d.topic("T1", alice, 10, "IMC")
		d.pl("PA1", alice, obj{"users": d.users(obj{bob: 50})}, 11, "T1")
		d.topic("T2", alice, 12, "PA1")
		d.pl("PA2", alice, obj{"users": d.users(obj{bob: 0})}, 13, "T2")
		d.pl("PB", bob, obj{"users": d.users(obj{bob: 50})}, 14, "PA1")
		d.topic("T3", bob, 15, "PB")
		d.message("MZ1", charlie, 16, "PA2", "T3")
		d.topic("T4", alice, 17, "MZ1")
		d.expect(d.resolve("MZ1"), map[pdu.TypeKey]string{keyPL: "PA2", keyTopic: "T2"})
		d.expect(d.resolve("T4", "MZ1"), map[pdu.TypeKey]string{keyPL: "PA2", keyTopic: "T4"})
	})
}

// The mainline ordering sorts by mainline position before the timestamp: T4
// is newer than T3 but hangs off an older power-levels event (PA1, through
// the rejected PB) than T3 (PA2), so T4 is applied first and T3 wins. A sort
// by timestamp alone would pick T4.
func TestMainlineSort(t *testing.T) {
	forVersions(t, func(t *testing.T, d *dag) {
		d.initial()
		d.topic("T1", alice, 10, "IMC")
		d.pl("PA1", alice, obj{"users": d.users(obj{bob: 50})}, 11, "T1")
		d.topic("T2", alice, 12, "PA1")
		d.pl("PA2", alice, obj{
			"users":  d.users(obj{bob: 50}),
			"events": obj{"m.room.power_levels": 100},
		}, 13, "T2")
		d.pl("PB", bob, obj{"users": d.users(obj{bob: 50})}, 14, "PA1")
		d.topic("T3", alice, 15, "PA2")
		d.topic("T4", alice, 16, "PB")
		d.expect(d.resolve("T3", "T4"), map[pdu.TypeKey]string{keyPL: "PA2", keyTopic: "T3"})
	})
}

// An event whose power-levels ancestry never meets the mainline has an
// infinite position and is applied before the others, whatever its
// timestamp.
func TestMainlineInfinitePositionFirst(t *testing.T) {
	forVersions(t, func(t *testing.T, d *dag) {
		d.add(spec{label: "CREATE", sender: alice, typ: "m.room.create", stateKey: sk(""),
			content: createContent(d), ts: 1})
		d.member("IMA", alice, alice, "join", 2, "CREATE")
		// TA has no power-levels auth event at all.
		d.topic("TA", alice, 100, "IMA")
		d.pl("P", alice, obj{"users": d.users(nil)}, 3, "IMA")
		d.topic("TB", alice, 4, "P")
		// TB (position 0, ts 4) is applied after TA (infinite, ts 100).
		d.expect(d.resolve("TA", "TB"), map[pdu.TypeKey]string{keyTopic: "TB", keyPL: "P"})
	})
}

func createContent(d *dag) obj {
	c := obj{"room_version": d.v.ID}
	if !d.v.CreatorIsSender {
		c["creator"] = alice
	}
	return c
}

// tieBreakRoom is the initial room with Bob and Charlie at 50, enough to
// change the join rules (state_default 50).
func tieBreakRoom(d *dag) {
	d.initial()
	d.pl("PL0", alice, obj{"users": d.users(obj{bob: 50, charlie: 50})}, 10, "IMC")
}

// The reverse topological power ordering applies the event of the more
// powerful sender first, even when it is newer: the less powerful sender's
// join rules, applied last, win.
func TestTieBreakPower(t *testing.T) {
	forVersions(t, func(t *testing.T, d *dag) {
		tieBreakRoom(d)
		d.joinRule("JA", alice, "invite", 20, "PL0")
		d.joinRule("JB", bob, "knock", 15, "PL0")
		d.expect(d.resolve("JA", "JB"), map[pdu.TypeKey]string{keyJR: "JB"})
		d.expect(d.resolve("JB", "JA"), map[pdu.TypeKey]string{keyJR: "JB"})
	})
}

// With equal power the older event is applied first, so the newer one wins.
func TestTieBreakTimestamp(t *testing.T) {
	for _, c := range []struct {
		tsB, tsC int64
		want     string
	}{{20, 15, "JB"}, {15, 20, "JC"}} {
		forVersions(t, func(t *testing.T, d *dag) {
			tieBreakRoom(d)
			d.joinRule("JB", bob, "invite", c.tsB, "PL0")
			d.joinRule("JC", charlie, "knock", c.tsC, "PL0")
			d.expect(d.resolve("JB", "JC"), map[pdu.TypeKey]string{keyJR: c.want})
			d.expect(d.resolve("JC", "JB"), map[pdu.TypeKey]string{keyJR: c.want})
		})
	}
}

// With equal power and timestamps the smaller event ID is applied first, so
// the larger one wins.
func TestTieBreakEventID(t *testing.T) {
	forVersions(t, func(t *testing.T, d *dag) {
		tieBreakRoom(d)
		d.joinRule("JB", bob, "invite", 20, "PL0")
		d.joinRule("JC", charlie, "knock", 20, "PL0")
		want := "JB"
		if d.id("JC") > d.id("JB") {
			want = "JC"
		}
		d.expect(d.resolve("JB", "JC"), map[pdu.TypeKey]string{keyJR: want})
		d.expect(d.resolve("JC", "JB"), map[pdu.TypeKey]string{keyJR: want})
	})
}

// TestReverseTopologicalOrder checks the whole order of a set directly:
// auth edges first, then higher power, then smaller timestamp, then smaller
// event ID.
func TestReverseTopologicalOrder(t *testing.T) {
	forVersions(t, func(t *testing.T, d *dag) {
		tieBreakRoom(d)
		d.joinRule("JA", alice, "invite", 40, "PL0")
		d.joinRule("JB", bob, "invite", 30, "PL0")
		d.joinRule("JC", charlie, "knock", 30, "PL0")
		d.joinRule("JD", charlie, "public", 20, "PL0")
		// PL1 (by Alice, newer than all) cites PL0; JE cites PL1.
		d.pl("PL1", alice, obj{"users": d.users(obj{bob: 50, charlie: 50})}, 50, "PL0")
		d.joinRule("JE", bob, "public", 1, "PL1")

		bc := []string{"JB", "JC"}
		if d.id("JC") < d.id("JB") {
			bc = []string{"JC", "JB"}
		}
		// PL0 comes first: every other event cites it. Then Alice's events
		// (JA at 40, PL1 at 50), then the power-50 events by timestamp
		// (JE at 1 became a candidate with PL1), then by ID.
		want := append([]string{"PL0", "JA", "PL1", "JE", "JD"}, bc...)

		set := map[string]bool{}
		for _, l := range want {
			set[d.id(l)] = true
		}
		r := newResolver(d.input())
		for id := range set {
			if _, err := r.load(id); err != nil {
				t.Fatal(err)
			}
		}
		got, err := r.reverseTopologicalPowerOrder(set)
		if err != nil {
			t.Fatal(err)
		}
		var labels []string
		for _, ev := range got {
			labels = append(labels, d.name(ev.ID()))
		}
		if len(labels) != len(want) {
			t.Fatalf("order %v, want %v", labels, want)
		}
		for i := range want {
			if labels[i] != want[i] {
				t.Fatalf("order %v, want %v", labels, want)
			}
		}
	})
}

// In v2.1 the partial state of step 2 holds only replayed events, so when the
// power levels are unconflicted (and no power-levels event is replayed) the
// mainline is empty and the other events are ordered by timestamp alone. v2
// takes the mainline from the unconflicted power levels. The spec's text
// gives this difference; both orders are checked here.
func TestMainlineBaseV2VersusV21(t *testing.T) {
	for _, c := range []struct{ version, want string }{
		{"11", "TNEW"}, // mainline of PL1: TOLD (position 1) before TNEW (0)
		{"12", "TOLD"}, // no mainline: TNEW (ts 20) before TOLD (ts 50)
	} {
		t.Run("v"+c.version, func(t *testing.T) {
			d := newDAG(t, pdu.MustVersion(c.version))
			d.initial()
			d.topic("TOLD", alice, 50, "IMC")
			d.pl("PL1", alice, obj{"users": d.users(obj{bob: 50})}, 10, "IMC")
			d.message("M", alice, 51, "TOLD", "PL1")
			d.topic("TNEW", alice, 20, "PL1")
			d.expect(d.resolve("M"), map[pdu.TypeKey]string{keyPL: "PL1", keyTopic: "TOLD"})
			d.expect(d.resolve("M", "TNEW"), map[pdu.TypeKey]string{keyPL: "PL1", keyTopic: c.want})
		})
	}
}

// X (step 1) holds every event of a power event's auth chain that is in the
// full conflicted set, also when the path to it passes through an event that
// is not: here Alice's kick of Bob cites the unconflicted power levels PLC,
// which cite Charlie's join IMC, conflicted with his later displayname change
// (v2; in v2.1 PLC is in the conflicted state subgraph).
func TestPowerSetFollowsWholeAuthChain(t *testing.T) {
	forVersions(t, func(t *testing.T, d *dag) {
		d.initial()
		d.pl("PL1", alice, obj{"users": d.users(obj{charlie: 50})}, 10, "IMC")
		d.pl("PLC", charlie, obj{"users": d.users(obj{charlie: 50})}, 11, "PL1")
		d.member("KB", alice, bob, "leave", 20, "PLC")
		d.add(spec{label: "IMC2", sender: charlie, typ: "m.room.member", stateKey: sk(charlie),
			content: obj{"membership": "join", "displayname": "C"}, ts: 21, prev: []string{"PLC"}})

		states := d.stateOf("KB", "IMC2")
		unconflicted, conflicted := split(states)
		r := newResolver(d.input(states...))
		if err := r.checkStates(); err != nil {
			t.Fatal(err)
		}
		full, err := r.fullConflictedSet(unconflicted, conflicted)
		if err != nil {
			t.Fatal(err)
		}
		// In v2.1 PLC is on the path KB → PLC → IMC between two conflicted
		// events, so the conflicted state subgraph holds it.
		v21 := d.v.StateRes == pdu.StateResV21
		if full[d.id("PLC")] != v21 || !full[d.id("IMC")] {
			t.Fatalf("full conflicted set: PLC %v, IMC %v; want %v, true", full[d.id("PLC")], full[d.id("IMC")], v21)
		}
		x, err := r.powerSet(full)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range []string{"KB", "IMB", "IMC"} {
			if !x[d.id(l)] {
				t.Errorf("X lacks %s", l)
			}
		}
		if x[d.id("IMC2")] {
			t.Error("X holds IMC2, which is in no power event's auth chain")
		}
		d.expect(d.resolve("KB", "IMC2"), map[pdu.TypeKey]string{
			keyMember(bob): "KB", keyMember(charlie): "IMC2", keyPL: "PLC",
		})
	})
}

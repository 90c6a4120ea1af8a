package stateres

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"

	"hearth/services/matrix/auth"
	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
)

func TestNoStates(t *testing.T) {
	d := newDAG(t, pdu.MustVersion("12"))
	got, err := Resolve(d.input())
	if err != nil || len(got) != 0 {
		t.Fatalf("Resolve() = %v, %v; want empty", got, err)
	}
}

func TestSingleAndIdenticalStates(t *testing.T) {
	forVersions(t, func(t *testing.T, d *dag) {
		d.initial()
		s := d.after["IMC"]
		for n := 1; n <= 3; n++ {
			states := make([]StateIDs, n)
			for i := range states {
				states[i] = maps.Clone(s)
			}
			got, err := Resolve(d.input(states...))
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, s) {
				t.Fatalf("%d copies: got %s, want %s", n, d.describe(got), d.describe(s))
			}
			got[keyTopic] = "$changed"
			if _, ok := s[keyTopic]; ok {
				t.Fatal("the result aliases the input")
			}
		}
	})
}

// TestOrderIndependence resolves the heads of the scenarios and of random
// DAGs in many orders.
func TestOrderIndependence(t *testing.T) {
	forVersions(t, func(t *testing.T, d *dag) {
		rng := rand.New(rand.NewPCG(1, 2))
		d.initial()
		d.pl("PA", alice, obj{"users": d.users(obj{bob: 50, charlie: 50})}, 10, "IMC")
		d.topic("TA", bob, 11, "PA")
		d.member("KC", alice, charlie, "leave", 12, "TA") // a kick
		d.joinRule("JB", bob, "invite", 13, "PA")
		d.topic("TC", charlie, 13, "PA")
		d.pl("PB", alice, obj{"users": d.users(obj{bob: 0, charlie: 50})}, 14, "TC")
		d.member("ME", evelyn, evelyn, "join", 15, "IMC")
		// Too little power: never allowed.
		d.add(spec{label: "TE", sender: evelyn, typ: "m.room.topic", stateKey: sk(""),
			content: obj{"topic": "TE"}, ts: 9, prev: []string{"ME"}, mayFail: true})
		checkShuffles(t, d, rng, 100, "KC", "JB", "PB", "TE", "IMC")
	})
}

// checkShuffles resolves the states after labels in n random orders, with
// repeats, and fails if the results differ.
func checkShuffles(t *testing.T, d *dag, rng *rand.Rand, n int, labels ...string) {
	t.Helper()
	states := d.stateOf(labels...)
	want, err := Resolve(d.input(states...))
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		perm := append([]StateIDs(nil), states...)
		if rng.IntN(3) == 0 {
			perm = append(perm, states[rng.IntN(len(states))])
		}
		rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		got, err := Resolve(d.input(perm...))
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, want) {
			t.Fatalf("order changes the result:\n got %s\nwant %s", d.describe(got), d.describe(want))
		}
	}
}

// TestRandomDAGs grows random rooms (every event allowed against the state
// before it, that state computed by Resolve) and checks that resolving their
// forward extremities does not depend on the order of the states.
func TestRandomDAGs(t *testing.T) {
	for seed := range uint64(6) {
		for _, ver := range []string{"11", "12"} {
			t.Run(fmt.Sprintf("v%s/seed%d", ver, seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 99))
				d := newDAG(t, pdu.MustVersion(ver))
				d.initial()
				heads := randomRoom(d, rng, 60)
				checkShuffles(t, d, rng, 30, heads...)
			})
		}
	}
}

// randomRoom adds up to n random events on top of the initial room and
// returns the labels of the forward extremities.
func randomRoom(d *dag, rng *rand.Rand, n int) []string {
	d.t.Helper()
	users := []string{alice, bob, charlie, evelyn, zara}
	labels := []string{"IMC"}
	heads := map[string]bool{"IMC": true}
	for i := range n {
		// One or two prev events among the latest ten.
		window := labels[max(0, len(labels)-10):]
		prev := []string{window[rng.IntN(len(window))]}
		if rng.IntN(3) == 0 {
			if p := window[rng.IntN(len(window))]; p != prev[0] {
				prev = append(prev, p)
			}
		}
		sender := users[rng.IntN(len(users))]
		target := users[rng.IntN(len(users))]
		label := fmt.Sprintf("R%d", i)
		s := spec{label: label, sender: sender, ts: int64(100 + rng.IntN(20)), prev: prev, stateKey: sk("")}
		switch rng.IntN(6) {
		case 0:
			s.typ, s.content = "m.room.topic", obj{"topic": label}
		case 1:
			s.typ = "m.room.power_levels"
			s.content = obj{"users": d.users(obj{bob: rng.IntN(3) * 50, charlie: rng.IntN(3) * 50})}
		case 2:
			s.typ = "m.room.join_rules"
			s.content = obj{"join_rule": []string{"public", "invite"}[rng.IntN(2)]}
		default:
			s.typ, s.stateKey = "m.room.member", sk(target)
			s.content = obj{"membership": []string{"join", "leave", "ban", "invite"}[rng.IntN(4)]}
		}
		if !d.allowed(s) {
			continue
		}
		d.add(s)
		labels = append(labels, label)
		for _, p := range prev {
			delete(heads, p)
		}
		heads[label] = true
	}
	var out []string
	for _, l := range labels {
		if heads[l] {
			out = append(out, l)
		}
	}
	return out
}

// allowed reports whether the event s describes would be allowed against the
// state before it.
func (d *dag) allowed(s spec) bool {
	d.t.Helper()
	before, err := Resolve(d.input(d.stateOf(s.prev...)...))
	if err != nil {
		d.t.Fatal(err)
	}
	state := d.stateMap(before)
	content := cjson.MustFromGo(s.content)
	ev, err := d.v.Build(pdu.Proto{
		Type: s.typ, StateKey: s.stateKey, Sender: s.sender, RoomID: d.roomID, Content: content,
		PrevEvents:     []string{d.id(s.prev[0])},
		AuthEvents:     d.v.SelectAuthEvents(s.typ, *s.stateKey, s.sender, content, state),
		Depth:          1,
		OriginServerTS: s.ts,
	}, pdu.Domain(s.sender), testKey)
	if err != nil {
		d.t.Fatal(err)
	}
	return auth.Allowed(ev, state) == nil
}

func TestMissingEvent(t *testing.T) {
	forVersions(t, func(t *testing.T, d *dag) {
		d.initial()
		d.topic("T1", alice, 10, "IMC")
		d.pl("PA1", alice, obj{"users": d.users(obj{bob: 50})}, 11, "T1")
		d.topic("T2", alice, 12, "PA1")
		d.pl("PA2", alice, obj{"users": d.users(obj{bob: 0})}, 13, "T2")
		d.pl("PB", bob, obj{"users": d.users(obj{bob: 50})}, 14, "PA1")
		d.topic("T3", bob, 15, "PB")
		for _, missing := range []string{"PA1", "IPOWER", "CREATE", "T3", "PB"} {
			in := d.input(d.stateOf("PA2", "T3")...)
			gone := d.id(missing)
			in.Event = func(id string) (*pdu.Event, error) {
				if id == gone {
					return nil, nil // a fetcher may say "not found" either way
				}
				return d.fetch(id)
			}
			if _, err := Resolve(in); !errors.Is(err, ErrMissingEvent) {
				t.Errorf("without %s: err = %v, want ErrMissingEvent", missing, err)
			}
		}
	})
}

func TestMaxAuthChain(t *testing.T) {
	forVersions(t, func(t *testing.T, d *dag) {
		d.initial()
		d.topic("T1", alice, 10, "IMC")
		d.topic("T2", alice, 10, "IMC")
		states := d.stateOf("T1", "T2")
		in := d.input(states...)
		in.MaxAuthChain = 5
		if _, err := Resolve(in); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
		in.MaxAuthChain = 8 // the 8 events of the room
		if _, err := Resolve(in); err != nil {
			t.Fatalf("with room for every event: %v", err)
		}
	})
}

func TestBadInput(t *testing.T) {
	d := newDAG(t, pdu.MustVersion("11"))
	d.initial()
	d.topic("T1", alice, 10, "IMC")
	good := d.after["T1"]
	bad := maps.Clone(good)
	bad[keyJR] = d.id("T1") // a topic stored as the join rules
	for name, in := range map[string]Input{
		"no version":  {States: []StateIDs{good, bad}, Event: d.fetch},
		"no fetcher":  {Version: d.v, States: []StateIDs{good, bad}},
		"wrong key":   d.input(good, bad),
		"wrong event": {Version: d.v, States: []StateIDs{good, d.after["IMC"]}, Event: func(string) (*pdu.Event, error) { return d.label["T1"], nil }},
	} {
		if _, err := Resolve(in); !errors.Is(err, ErrBadState) {
			t.Errorf("%s: err = %v, want ErrBadState", name, err)
		}
	}
}

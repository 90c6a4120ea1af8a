package proc

import (
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"
)

// TestPartitionHeals runs three servers in their own network namespaces,
// wired to one bridge, and cuts hs1's cable while users on both sides
// write: 60 messages and a topic change on hs1's side, 30 messages from
// each of hs2 and hs3 and another topic change on theirs. hs2 and hs3
// must keep federating with each other; hs1 must see none of their
// messages (nor they hs1's) until the cable is back. Then every server
// must hold every message exactly once and report the same state,
// including one and the same topic.
// partitionLength is how long hs1 stays cut off: long enough for the
// outbound queues on both sides to fail and back off a few times (2 s,
// 4 s, ...), which is what a real outage leaves behind.
const partitionLength = 10 * time.Second

func TestPartitionHeals(t *testing.T) {
	if testing.Short() {
		t.Skip("runs hearth processes; skipped with -short")
	}
	sw, err := NewSwitch(t)
	if errors.Is(err, ErrNoNamespaces) {
		t.Skipf("needs network namespaces (Linux, root or CAP_NET_ADMIN, iproute2): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	bin := hearthBinary(t)
	n := NewNetwork(t, bin)
	var hosts []*Host
	var nodes []*Node
	for i := 1; i <= 3; i++ {
		h, err := sw.AddHost(fmt.Sprintf("10.77.0.%d", i))
		if err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, h)
		nodes = append(nodes, n.AddOn(fmt.Sprint("hs", i), h))
	}
	hs1, hs2, hs3 := nodes[0], nodes[1], nodes[2]
	alice, bob, carol := register(t, hs1, "alice"), register(t, hs2, "bob"), register(t, hs3, "carol")

	room, err := alice.CreateRoom(map[string]any{
		"preset": "public_chat", "room_alias_name": "square", "name": "Square",
		"power_level_content_override": map[string]any{"users": map[string]any{bob.ID: 50}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Join("#square:"+hs1.Name, hs1.Name); err != nil {
		t.Fatalf("bob joins by alias: %v", err)
	}
	if _, err := carol.Join(room, hs1.Name); err != nil {
		t.Fatalf("carol joins by ID: %v", err)
	}
	all := []*User{alice, bob, carol}
	waitFor(t, 30*time.Second, "three members on every server", func() error { return joinedEverywhere(room, all...) })
	want := map[string]bool{}
	for _, u := range all {
		id, err := u.Send(room, "before the cut")
		if err != nil {
			t.Fatal(err)
		}
		want[id] = true
	}
	waitFor(t, 30*time.Second, "the first messages everywhere", func() error { return converged(room, want, all...) })

	if err := hosts[0].Cut(); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	west, east, east2 := write(alice, room, 60, "west"), write(bob, room, 30, "east"), write(carol, room, 30, "east")
	westTopic, err := alice.SetState(room, "m.room.topic", "", map[string]any{"topic": "west"})
	if err != nil {
		t.Fatalf("alice sets the topic: %v", err)
	}
	eastTopic, err := bob.SetState(room, "m.room.topic", "", map[string]any{"topic": "east"})
	if err != nil {
		t.Fatalf("bob sets the topic: %v", err)
	}
	westIDs, eastIDs := west.wait(t), append(east.wait(t), east2.wait(t)...)
	eastSide := maps.Clone(want)
	addAll(eastSide, eastIDs)
	waitFor(t, 30*time.Second, "hs2 and hs3 in step while hs1 is cut off", func() error {
		return converged(room, eastSide, bob, carol)
	})
	if err := none(alice, room, eastIDs); err != nil {
		t.Fatalf("the partition leaks: %v", err)
	}
	for _, u := range []*User{bob, carol} {
		if err := none(u, room, westIDs); err != nil {
			t.Fatalf("the partition leaks: %v", err)
		}
	}

	addAll(want, westIDs)
	addAll(want, eastIDs)
	if rest := partitionLength - time.Since(cut); rest > 0 {
		time.Sleep(rest) // the scenario: a cut long enough for the queues to back off
	}
	healed := time.Now()
	if err := hosts[0].Connect(); err != nil {
		t.Fatal(err)
	}
	var state map[string]string
	waitFor(t, 90*time.Second, fmt.Sprintf("all %d messages and the same state on all three after the heal", len(want)), func() error {
		if err := converged(room, want, all...); err != nil {
			return err
		}
		state, err = sameState(room, all...)
		return err
	})
	t.Logf("partition of %v healed: converged %v after the link came back",
		healed.Sub(cut).Round(time.Millisecond), time.Since(healed).Round(time.Millisecond))
	switch topic := state["m.room.topic|"]; topic {
	case westTopic:
		t.Logf("the west topic (%s, set by the room's creator) won", topic)
	case eastTopic:
		t.Logf("the east topic (%s) won", topic)
	default:
		t.Fatalf("current topic %s is neither side's topic (%s west, %s east)", topic, westTopic, eastTopic)
	}
}

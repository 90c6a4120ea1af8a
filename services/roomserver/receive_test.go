package roomserver_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
	"hearth/services/matrix/signing"
	"hearth/services/roomserver"
	"hearth/services/storage"
)

// peer is one server of a two-server test: a room server of its own name,
// reaching the other through direct calls (what federation would carry).
type peer struct {
	name string
	db   *storage.DB
	rs   *roomserver.Server
}

func openPeer(t *testing.T, name string) *peer {
	t.Helper()
	db, err := storage.Open(context.Background(), storage.Options{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	seed := make([]byte, 32)
	copy(seed, name)
	key, err := signing.KeyFromSeed("ed25519:k", seed)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := roomserver.New(context.Background(), db, roomserver.Options{ServerName: name, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return &peer{name: name, db: db, rs: rs}
}

// fetcherOf answers as the given peer would over federation.
type fetcherOf struct {
	p     *peer
	calls map[string]int
}

func (f *fetcherOf) count(what string) {
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[what]++
}

func (f *fetcherOf) MissingEvents(ctx context.Context, roomID string, earliest, latest []string, limit int, minDepth int64) ([]*pdu.Event, error) {
	f.count("missing")
	return f.p.rs.MissingEvents(ctx, roomID, earliest, latest, limit, minDepth)
}

func (f *fetcherOf) StateBefore(ctx context.Context, roomID, eventID string) ([]*pdu.Event, []*pdu.Event, error) {
	f.count("state")
	st, err := f.p.rs.StateBefore(ctx, roomID, eventID)
	if err != nil {
		return nil, nil, err
	}
	var list []*pdu.Event
	for _, ev := range st {
		list = append(list, ev)
	}
	chain, err := f.p.rs.AuthChain(ctx, roomID, list)
	return list, chain, err
}

func (f *fetcherOf) AuthChain(ctx context.Context, roomID, eventID string) ([]*pdu.Event, error) {
	f.count("auth")
	evs, err := f.p.rs.EventsByID(ctx, roomID, []string{eventID})
	if err != nil || len(evs) == 0 {
		return nil, fmt.Errorf("no event %s: %v", eventID, err)
	}
	return f.p.rs.AuthChain(ctx, roomID, evs)
}

// joinVia joins user (of p) to roomID through resident server res.
func joinVia(t *testing.T, p, res *peer, roomID, user string) {
	t.Helper()
	ctx := context.Background()
	ver, tmpl, err := res.rs.MembershipTemplate(ctx, roomID, user, "join")
	if err != nil {
		t.Fatalf("make_join: %v", err)
	}
	join, err := p.rs.EventFromTemplate(ver, tmpl, user, "join", cjson.Value{})
	if err != nil {
		t.Fatalf("build join: %v", err)
	}
	got, err := res.rs.Receive(ctx, join, nil)
	if err != nil || got.Outcome != roomserver.Accepted {
		t.Fatalf("send_join on resident: %+v %v", got, err)
	}
	state, err := res.rs.StateBefore(ctx, roomID, join.ID())
	if err != nil {
		t.Fatal(err)
	}
	var list []*pdu.Event
	for _, ev := range state {
		list = append(list, ev)
	}
	chain, err := res.rs.AuthChain(ctx, roomID, append(list, join))
	if err != nil {
		t.Fatal(err)
	}
	res2, err := p.rs.JoinRemote(ctx, join, list, chain)
	if err != nil || res2.Outcome != roomserver.Accepted {
		t.Fatalf("import join: %+v %v", res2, err)
	}
}

func send(t *testing.T, p *peer, roomID, sender, body string) *pdu.Event {
	t.Helper()
	s, err := p.rs.Send(context.Background(), roomID, roomserver.Event{Type: "m.room.message", Sender: sender, Content: text(body)}, nil)
	if err != nil {
		t.Fatalf("%s send: %v", p.name, err)
	}
	return s.Event
}

func setState(t *testing.T, p *peer, roomID, sender, typ string, content cjson.Value) *pdu.Event {
	t.Helper()
	s, err := p.rs.Send(context.Background(), roomID, roomserver.Event{Type: typ, StateKey: sk(""), Sender: sender, Content: content}, nil)
	if err != nil {
		t.Fatalf("%s set %s: %v", p.name, typ, err)
	}
	return s.Event
}

func deliver(t *testing.T, to, from *peer, ev *pdu.Event) roomserver.Received {
	t.Helper()
	got, err := to.rs.Receive(context.Background(), ev, &fetcherOf{p: from})
	if err != nil {
		t.Fatalf("%s receive %s: %v", to.name, ev.ID(), err)
	}
	return got
}

func stateIDs(t *testing.T, p *peer, roomID string) map[pdu.TypeKey]string {
	t.Helper()
	st, err := p.rs.CurrentState(context.Background(), roomID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[pdu.TypeKey]string{}
	for k, ev := range st {
		out[k] = ev.ID()
	}
	return out
}

func sameState(t *testing.T, a, b *peer, roomID string) {
	t.Helper()
	sa, sb := stateIDs(t, a, roomID), stateIDs(t, b, roomID)
	if len(sa) != len(sb) {
		t.Fatalf("state sizes differ: %s %d, %s %d", a.name, len(sa), b.name, len(sb))
	}
	for k, id := range sa {
		if sb[k] != id {
			t.Fatalf("state %v differs: %s has %s, %s has %s", k, a.name, id, b.name, sb[k])
		}
	}
}

func timelineIDs(t *testing.T, p *peer, roomID string) []string {
	t.Helper()
	evs, err := p.rs.Timeline(context.Background(), roomID, 0, roomserver.Forward, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Event.ID())
	}
	return out
}

func twoServerRoom(t *testing.T, ver string) (a, b *peer, roomID, alice, bob string) {
	a, b = openPeer(t, "a.test"), openPeer(t, "b.test")
	alice, bob = "@alice:a.test", "@bob:b.test"
	roomID, err := a.rs.CreateRoom(context.Background(), roomserver.CreateRequest{Creator: alice, Version: ver, Public: true, Name: "shared"})
	if err != nil {
		t.Fatal(err)
	}
	joinVia(t, b, a, roomID, bob)
	return a, b, roomID, alice, bob
}

func TestRemoteJoinAndMessagesPerVersion(t *testing.T) {
	for _, ver := range []string{"10", "11", "12"} {
		t.Run("v"+ver, func(t *testing.T) {
			a, b, roomID, alice, bob := twoServerRoom(t, ver)
			sameState(t, a, b, roomID)
			if m, _ := b.rs.Membership(context.Background(), roomID, bob); m != "join" {
				t.Fatalf("bob's membership on b: %q", m)
			}
			for i := 0; i < 5; i++ {
				ev := send(t, a, roomID, alice, fmt.Sprint("a", i))
				if got := deliver(t, b, a, ev); got.Outcome != roomserver.Accepted {
					t.Fatalf("b: %+v", got)
				}
				ev = send(t, b, roomID, bob, fmt.Sprint("b", i))
				if got := deliver(t, a, b, ev); got.Outcome != roomserver.Accepted {
					t.Fatalf("a: %+v", got)
				}
			}
			ta, tb := timelineIDs(t, a, roomID), timelineIDs(t, b, roomID)
			// b's timeline starts at the join; a's holds the room's creation too.
			if len(tb) != 11 || ta[len(ta)-11] != tb[0] {
				t.Fatalf("timelines: a %d events, b %d", len(ta), len(tb))
			}
			for i := range tb {
				if ta[len(ta)-11+i] != tb[i] {
					t.Fatalf("timeline order differs at %d", i)
				}
			}
			// Delivering the same event again changes nothing.
			last, _, err := a.rs.EventByID(context.Background(), ta[len(ta)-1])
			if err != nil {
				t.Fatal(err)
			}
			if got := deliver(t, b, a, last); got.Outcome != roomserver.Accepted {
				t.Fatalf("redelivery: %+v", got)
			}
			if n := len(timelineIDs(t, b, roomID)); n != 11 {
				t.Fatalf("redelivery duplicated: %d events", n)
			}
		})
	}
}

func TestForkedMessagesMerge(t *testing.T) {
	a, b, roomID, alice, bob := twoServerRoom(t, "12")
	ea := send(t, a, roomID, alice, "at the same time")
	eb := send(t, b, roomID, bob, "at the same time too")
	deliver(t, b, a, ea)
	deliver(t, a, b, eb)
	sameState(t, a, b, roomID)
	// The next event of each side names both as prev_events.
	next := send(t, a, roomID, alice, "merge")
	if len(next.PrevEvents()) != 2 {
		t.Fatalf("prev_events after a fork: %v", next.PrevEvents())
	}
	if got := deliver(t, b, a, next); got.Outcome != roomserver.Accepted {
		t.Fatalf("%+v", got)
	}
	nb := send(t, b, roomID, bob, "after merge")
	if len(nb.PrevEvents()) != 1 || nb.PrevEvents()[0] != next.ID() {
		t.Fatalf("b did not build on the merge: %v", nb.PrevEvents())
	}
}

func TestGapFilledWithMissingEvents(t *testing.T) {
	a, b, roomID, alice, _ := twoServerRoom(t, "12")
	var last *pdu.Event
	for i := 0; i < 30; i++ {
		last = send(t, a, roomID, alice, fmt.Sprint("m", i))
	}
	f := &fetcherOf{p: a}
	got, err := b.rs.Receive(context.Background(), last, f)
	if err != nil || got.Outcome != roomserver.Accepted {
		t.Fatalf("%+v %v", got, err)
	}
	if f.calls["missing"] != 1 || f.calls["state"] != 0 {
		t.Fatalf("fetches: %v", f.calls)
	}
	ta, tb := timelineIDs(t, a, roomID), timelineIDs(t, b, roomID)
	if len(tb) != 31 || tb[30] != ta[len(ta)-1] {
		t.Fatalf("b holds %d events, want 31", len(tb))
	}
}

func TestLargeGapFallsBackToState(t *testing.T) {
	a, b, roomID, alice, _ := twoServerRoom(t, "12")
	var last *pdu.Event
	for i := 0; i < 250; i++ {
		last = send(t, a, roomID, alice, fmt.Sprint("m", i))
		if i == 100 {
			setState(t, a, roomID, alice, "m.room.topic", cjson.ObjectOf(cjson.M("topic", cjson.StrOf("while away"))))
		}
	}
	f := &fetcherOf{p: a}
	got, err := b.rs.Receive(context.Background(), last, f)
	if err != nil || got.Outcome != roomserver.Accepted {
		t.Fatalf("%+v %v", got, err)
	}
	if f.calls["state"] == 0 {
		t.Fatalf("expected a /state fallback: %v", f.calls)
	}
	sameState(t, a, b, roomID)
}

func TestConcurrentStateChangesResolveTheSame(t *testing.T) {
	a, b, roomID, alice, bob := twoServerRoom(t, "12")
	// Give bob power to set the topic, so both sides can.
	pl := cjson.ObjectOf(cjson.M("users", cjson.ObjectOf(cjson.M(bob, cjson.IntOf(50)))), cjson.M("state_default", cjson.IntOf(50)))
	deliver(t, b, a, setState(t, a, roomID, alice, "m.room.power_levels", pl))
	// Partition: each side changes the topic and the name.
	ta := setState(t, a, roomID, alice, "m.room.topic", cjson.ObjectOf(cjson.M("topic", cjson.StrOf("from a"))))
	na := setState(t, a, roomID, alice, "m.room.name", cjson.ObjectOf(cjson.M("name", cjson.StrOf("a's name"))))
	tb := setState(t, b, roomID, bob, "m.room.topic", cjson.ObjectOf(cjson.M("topic", cjson.StrOf("from b"))))
	// Heal, in different orders on each side.
	deliver(t, b, a, ta)
	deliver(t, b, a, na)
	deliver(t, a, b, tb)
	sameState(t, a, b, roomID)
	st, _ := a.rs.CurrentState(context.Background(), roomID)
	if st.Get("m.room.name", "").ID() != na.ID() {
		t.Fatal("an unconflicted change was lost")
	}
}

func TestBanSoftFailsLateMessage(t *testing.T) {
	a, b, roomID, alice, bob := twoServerRoom(t, "12")
	// bob writes while alice bans him; bob's message reaches a after the ban.
	late := send(t, b, roomID, bob, "sent before I knew")
	ban, err := a.rs.Send(context.Background(), roomID, roomserver.Event{Type: "m.room.member", StateKey: sk(bob), Sender: alice, Content: member("ban")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := deliver(t, a, b, late)
	if got.Outcome != roomserver.SoftFailed {
		t.Fatalf("late message: %+v", got)
	}
	for _, id := range timelineIDs(t, a, roomID) {
		if id == late.ID() {
			t.Fatal("a soft-failed event reached the timeline")
		}
	}
	deliver(t, b, a, ban.Event)
	if m, _ := b.rs.Membership(context.Background(), roomID, bob); m != "ban" {
		t.Fatalf("bob on b after the ban: %q", m)
	}
}

func TestForgedEventsRejected(t *testing.T) {
	a, b, roomID, _, bob := twoServerRoom(t, "12")
	ctx := context.Background()
	// bob (power 0) tries to change the power levels through his own server.
	evil, err := b.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.power_levels", StateKey: sk(""), Sender: bob,
		Content: cjson.ObjectOf(cjson.M("users", cjson.ObjectOf(cjson.M(bob, cjson.IntOf(100)))))}, nil)
	if err == nil {
		// b's own checks refuse it; build one by hand from a's template instead.
		t.Fatalf("b accepted its user's power grab: %v", evil.Event.ID())
	}
	// An event whose auth events leave out the power levels.
	st, _ := a.rs.CurrentState(ctx, roomID)
	create, join := st.Get("m.room.create", ""), st.Get("m.room.member", bob)
	seed := make([]byte, 32)
	copy(seed, "b.test")
	key, _ := signing.KeyFromSeed("ed25519:k", seed)
	ext := timelineIDs(t, a, roomID)
	authIDs := []string{join.ID()}
	if create.Version().ID != "12" {
		authIDs = append(authIDs, create.ID())
	}
	bad, err := create.Version().Build(pdu.Proto{Type: "m.room.name", StateKey: sk(""), Sender: bob, RoomID: roomID,
		Content: cjson.ObjectOf(cjson.M("name", cjson.StrOf("hijacked"))), PrevEvents: ext[len(ext)-1:], AuthEvents: authIDs,
		Depth: 100, OriginServerTS: 1}, "b.test", key)
	if err != nil {
		t.Fatal(err)
	}
	got := deliver(t, a, b, bad)
	if got.Outcome != roomserver.Rejected {
		t.Fatalf("forged name change: %+v", got)
	}
	st2, _ := a.rs.CurrentState(ctx, roomID)
	if n := st2.Get("m.room.name", ""); n == nil || n.ID() == bad.ID() {
		t.Fatal("a rejected event changed the state")
	}
	// Events built on a rejected event are still judged on their own.
	ok := send(t, a, roomID, "@alice:a.test", "still fine")
	if got := deliver(t, b, a, ok); got.Outcome != roomserver.Accepted {
		t.Fatalf("%+v", got)
	}
}

func TestStateBeforeAndBackfill(t *testing.T) {
	a, b, roomID, alice, _ := twoServerRoom(t, "12")
	ctx := context.Background()
	topic := setState(t, a, roomID, alice, "m.room.topic", cjson.ObjectOf(cjson.M("topic", cjson.StrOf("one"))))
	msg := send(t, a, roomID, alice, "after topic")
	deliver(t, b, a, msg)
	st, err := a.rs.StateBefore(ctx, roomID, msg.ID())
	if err != nil {
		t.Fatal(err)
	}
	if st.Get("m.room.topic", "").ID() != topic.ID() {
		t.Fatal("state before the message lacks the topic")
	}
	st, _ = a.rs.StateBefore(ctx, roomID, topic.ID())
	if st.Get("m.room.topic", "") != nil {
		t.Fatal("state before the topic already has it")
	}
	got, err := a.rs.Backfill(ctx, roomID, []string{msg.ID()}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || got[0].ID() != msg.ID() || got[1].ID() != topic.ID() {
		t.Fatalf("backfill: %d events", len(got))
	}
	depths := make([]int64, len(got))
	for i, e := range got {
		depths[i] = e.Depth()
	}
	if !sort.SliceIsSorted(depths, func(i, j int) bool { return depths[i] > depths[j] }) {
		t.Fatalf("backfill not newest first: %v", depths)
	}
	// b can read the same state at the message, from its own snapshots.
	stb, err := b.rs.StateBefore(ctx, roomID, msg.ID())
	if err != nil {
		t.Fatal(err)
	}
	if stb.Get("m.room.topic", "").ID() != topic.ID() {
		t.Fatal("b's state before the message differs")
	}
}

func TestStatePersistsAcrossRestart(t *testing.T) {
	a, b, roomID, alice, _ := twoServerRoom(t, "12")
	ctx := context.Background()
	deliver(t, b, a, send(t, a, roomID, alice, "x"))
	before := stateIDs(t, b, roomID)
	rs2, err := roomserver.New(ctx, b.db, roomserver.Options{ServerName: "b.test", Key: testKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	st, err := rs2.CurrentState(ctx, roomID)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != len(before) {
		t.Fatalf("after restart: %d state events, want %d", len(st), len(before))
	}
	rooms, _ := rs2.RoomsOf(ctx, "@bob:b.test")
	if rooms[roomID] != "join" {
		t.Fatalf("bob's rooms after restart: %v", rooms)
	}
}

func TestRestrictedJoinAuthorisedByResident(t *testing.T) {
	a, b, lobby, alice, bob := twoServerRoom(t, "12")
	ctx := context.Background()
	restricted := cjson.ObjectOf(cjson.M("join_rule", cjson.StrOf("restricted")), cjson.M("allow",
		cjson.ArrayOf(cjson.ObjectOf(cjson.M("type", cjson.StrOf("m.room_membership")), cjson.M("room_id", cjson.StrOf(lobby))))))
	inner, err := a.rs.CreateRoom(ctx, roomserver.CreateRequest{Creator: alice, Version: "12",
		InitialState: []roomserver.Event{{Type: "m.room.join_rules", StateKey: sk(""), Content: restricted}}})
	if err != nil {
		t.Fatal(err)
	}
	ver, tmpl, err := a.rs.MembershipTemplate(ctx, inner, bob, "join")
	if err != nil {
		t.Fatalf("make_join for a lobby member: %v", err)
	}
	if via, _ := tmpl.Get("content").Get("join_authorised_via_users_server").Str(); via != alice {
		t.Fatalf("authorising user: %q", via)
	}
	join, err := b.rs.EventFromTemplate(ver, tmpl, bob, "join", cjson.Value{})
	if err != nil {
		t.Fatal(err)
	}
	// Without the resident's signature the join fails the auth rules.
	signed, err := a.rs.CoSign(join)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := a.rs.Receive(ctx, signed, nil); err != nil || got.Outcome != roomserver.Accepted {
		t.Fatalf("restricted join: %+v %v", got, err)
	}
	// Someone who is in no allowed room is refused a template.
	if _, _, err := a.rs.MembershipTemplate(ctx, inner, "@eve:b.test", "join"); !errors.Is(err, roomserver.ErrForbidden) {
		t.Fatalf("make_join for an outsider: %v", err)
	}
}

func TestReceiveChainCommitsARunTogether(t *testing.T) {
	a, b, roomID, alice, _ := twoServerRoom(t, "12")
	ctx := context.Background()
	var run []*pdu.Event
	for i := 0; i < 20; i++ {
		run = append(run, send(t, a, roomID, alice, fmt.Sprint("m", i)))
		if i == 10 {
			run = append(run, setState(t, a, roomID, alice, "m.room.topic", cjson.ObjectOf(cjson.M("topic", cjson.StrOf("mid-run")))))
		}
	}
	// The first event again, and a gap after the run: the chain takes the
	// run (the duplicate with its first outcome) and stops at the gap.
	for i := 0; i < 3; i++ {
		send(t, a, roomID, alice, "unseen")
	}
	gapped := send(t, a, roomID, alice, "after a gap")
	deliver(t, b, a, run[0])
	got, err := b.rs.ReceiveChain(ctx, append(append([]*pdu.Event(nil), run...), gapped))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(run) {
		t.Fatalf("took %d events, want %d", len(got), len(run))
	}
	for i, g := range got {
		if g.Outcome != roomserver.Accepted {
			t.Fatalf("event %d: %+v", i, g)
		}
	}
	// The state before each event of the run is recorded.
	st, err := b.rs.StateBefore(ctx, roomID, run[len(run)-1].ID())
	if err != nil || st.Get("m.room.topic", "") == nil || st.Get("m.room.topic", "").ID() != run[11].ID() {
		t.Fatalf("state before the last event: %v", err)
	}
	// The gapped event takes the full path and fills the gap.
	if r := deliver(t, b, a, gapped); r.Outcome != roomserver.Accepted {
		t.Fatalf("%+v", r)
	}
	sameState(t, a, b, roomID)
	ta, tb := timelineIDs(t, a, roomID), timelineIDs(t, b, roomID)
	if ta[len(ta)-1] != tb[len(tb)-1] || len(tb) != 1+len(run)+4 {
		t.Fatalf("b's timeline: %d events", len(tb))
	}
}

func TestReceiveChainStopsAtAForgedEvent(t *testing.T) {
	a, b, roomID, alice, bob := twoServerRoom(t, "12")
	ctx := context.Background()
	m1 := send(t, a, roomID, alice, "fine")
	st, _ := a.rs.CurrentState(ctx, roomID)
	seed := make([]byte, 32)
	copy(seed, "b.test")
	key, _ := signing.KeyFromSeed("ed25519:k", seed)
	forged, err := st.Get("m.room.create", "").Version().Build(pdu.Proto{Type: "m.room.power_levels", StateKey: sk(""), Sender: bob,
		RoomID: roomID, Content: cjson.ObjectOf(cjson.M("users", cjson.ObjectOf(cjson.M(bob, cjson.IntOf(100))))),
		PrevEvents: []string{m1.ID()}, AuthEvents: []string{st.Get("m.room.power_levels", "").ID(), st.Get("m.room.member", bob).ID()},
		Depth: m1.Depth() + 1, OriginServerTS: 1}, "b.test", key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.rs.ReceiveChain(ctx, []*pdu.Event{forged})
	if err != nil || len(got) != 0 {
		t.Fatalf("the chain took a forged event: %v %v", got, err)
	}
	_ = b
	if r := deliver(t, a, b, forged); r.Outcome != roomserver.Rejected {
		t.Fatalf("full path: %+v", r)
	}
}

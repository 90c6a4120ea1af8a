package federationtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hearth/services/federation/xmatrix"
	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
	"hearth/services/matrix/signing"
)

// The malicious-peer suite: each test is named after the advisory class
// of notes/reliability.md §2 it guards, checks what the spec says must
// happen, then that the room still works for honest servers.

// evilFixture is a public room on hs1 that bob (hs2) and mallory (the
// malicious peer) have joined.
type evilFixture struct {
	n          *Network
	hs1, hs2   *Node
	alice, bob *User
	evil       *EvilPeer
	roomID     string
	room       *EvilRoom // mallory's view of the room
	mallory    string
}

func newEvilFixture(t *testing.T) *evilFixture {
	t.Helper()
	n := NewNetwork(t)
	f := &evilFixture{n: n, hs1: n.Add("hs1.test"), hs2: n.Add("hs2.test"), evil: n.AddEvil("evil.test")}
	f.alice, f.bob = f.hs1.Register("alice"), f.hs2.Register("bob")
	f.roomID = f.alice.CreateRoom(map[string]any{"preset": "public_chat"})
	if st, b := f.bob.Join(f.roomID, "hs1.test"); st != http.StatusOK {
		t.Fatalf("bob joins: %d %v", st, b)
	}
	f.room = f.evil.JoinRoom(f.hs1, f.roomID, "mallory")
	f.mallory = f.evil.UserID("mallory")
	Eventually(t, 10*time.Second, "bob and mallory joined on hs1", func() bool {
		return f.alice.MembershipIn(f.roomID, f.bob.ID) == "join" && f.alice.MembershipIn(f.roomID, f.mallory) == "join"
	})
	return f
}

// stillUsable checks the room works for honest servers: alice's new
// message reaches bob on hs2, and a correct event from the peer is
// still accepted.
func (f *evilFixture) stillUsable(t *testing.T) {
	t.Helper()
	f.honestStillWork(t)
	f.peerStillHeard(t)
}

// honestStillWork checks alice's new message reaches bob on hs2.
func (f *evilFixture) honestStillWork(t *testing.T) {
	t.Helper()
	msg := f.alice.Send(f.roomID, "still here")
	Eventually(t, 20*time.Second, "alice's message on hs2", func() bool {
		return slices.Contains(f.bob.Messages(f.roomID), msg)
	})
}

// peerStillHeard checks a correct event from the peer is accepted.
func (f *evilFixture) peerStillHeard(t *testing.T) {
	t.Helper()
	ok := f.room.Message(f.mallory, "an honest message")
	if got := f.evil.Send(f.hs1, ok); got[ok.ID()] != "" {
		t.Fatalf("a correct event from the peer afterwards: %q", got[ok.ID()])
	}
	if !slices.Contains(f.alice.Messages(f.roomID), ok.ID()) {
		t.Fatalf("the peer's correct event is not in alice's timeline")
	}
	if st, b := f.clientEvent(t, ok.ID()); st != http.StatusOK {
		t.Fatalf("GET /event of the peer's correct event: %d %v", st, b)
	}
}

// clientEvent reads an event through alice's client API: the status and
// the event.
func (f *evilFixture) clientEvent(t *testing.T, eventID string) (int, map[string]any) {
	t.Helper()
	return f.alice.Call("GET", "/_matrix/client/v3/rooms/"+url.PathEscape(f.roomID)+"/event/"+url.PathEscape(eventID), nil)
}

// notInTimeline checks that the event is not in alice's timeline.
func (f *evilFixture) notInTimeline(t *testing.T, eventID string) {
	t.Helper()
	if slices.Contains(f.alice.Messages(f.roomID), eventID) {
		t.Fatalf("event %s is in alice's timeline", eventID)
	}
}

// notInRoom checks that a client of hs1 cannot see the event at all.
func (f *evilFixture) notInRoom(t *testing.T, eventID string) {
	t.Helper()
	f.notInTimeline(t, eventID)
	if st, b := f.clientEvent(t, eventID); st != http.StatusNotFound {
		t.Fatalf("GET /event/%s: %d %v, want 404", eventID, st, b)
	}
}

// Signing / signature verification: a PDU whose signature does not
// verify is not taken into the room.
func TestEvilSignatureVerificationBadSignature(t *testing.T) {
	f := newEvilFixture(t)
	other := f.evil.Key
	other.Private = otherKey(t)
	bad := f.evil.BuildAs(f.room.Ver, f.room.Proto(f.mallory, "m.room.message", nil,
		map[string]any{"msgtype": "m.text", "body": "signed with the wrong key"}), f.evil.Name, other)
	f.refused(t, bad, "a mis-signed PDU")
	f.stillUsable(t)
}

// refused sends ev and checks it gets no success entry and no place in
// the room.
func (f *evilFixture) refused(t *testing.T, ev *pdu.Event, what string) {
	t.Helper()
	if e, listed := f.evil.Send(f.hs1, ev)[ev.ID()]; listed && e == "" {
		t.Fatalf("%s was accepted", what)
	}
	f.notInRoom(t, ev.ID())
}

// Signing / content hashes: a PDU whose content does not match its hash
// is kept redacted: clients see it without its content.
func TestEvilSignatureVerificationWrongContentHash(t *testing.T) {
	f := newEvilFixture(t)
	ev := f.room.Build(f.mallory, "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": "original"})
	// Swap the content after signing: the signature (over the redacted
	// form) still verifies and the event ID is unchanged; the hash fails.
	obj := ev.Object().With("content", cjson.MustFromGo(map[string]any{"msgtype": "m.text", "body": "SECRET PAYLOAD"}))
	raw := cjson.Encode(obj)
	got := f.evil.SendRaw(f.hs1, raw)
	if e, listed := got[ev.ID()]; !listed || e != "" {
		t.Fatalf("result for the tampered PDU: listed %v, error %q; want accepted in redacted form", listed, e)
	}
	f.room.Add(ev)
	st, b := f.clientEvent(t, ev.ID())
	if st != http.StatusOK {
		t.Fatalf("GET /event: %d %v", st, b)
	}
	if c, _ := b["content"].(map[string]any); len(c) != 0 {
		t.Fatalf("the event's content reached a client: %v", c)
	}
	f.stillUsable(t)
}

// Event auth: an event citing a rejected event among its auth events is
// rejected (Complement's TestInboundFederationRejectsEventsWithRejectedAuthEvents).
func TestEvilEventAuthRejectedAuthEvents(t *testing.T) {
	f := newEvilFixture(t)
	pl := f.room.StateEvent("m.room.power_levels", "")
	evilPL := f.powerGrab()
	// A message that cites the rejected power levels as its auth event,
	// built on it.
	p := f.room.Proto(f.mallory, "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": "by rejected power"})
	p.PrevEvents = []string{evilPL.ID()}
	p.Depth = evilPL.Depth() + 1
	for i, a := range p.AuthEvents {
		if a == pl.ID() {
			p.AuthEvents[i] = evilPL.ID()
		}
	}
	msg := f.evil.Build(f.room.Ver, p)
	got := f.evil.Send(f.hs1, evilPL, msg)
	if e, listed := got[evilPL.ID()]; !listed || e == "" {
		t.Fatalf("the power-level grab: listed %v, error %q; want rejected", listed, e)
	}
	if e, listed := got[msg.ID()]; !listed || e == "" {
		t.Fatalf("the event with a rejected auth event: listed %v, error %q; want rejected", listed, e)
	}
	for _, id := range []string{evilPL.ID(), msg.ID()} {
		f.notInTimeline(t, id)
	}
	if st, _ := f.alice.State(f.roomID); st["m.room.power_levels|"] != pl.ID() {
		t.Fatalf("the power levels changed to %s", st["m.room.power_levels|"])
	}
	f.stillUsable(t)
}

// powerGrab is mallory (power 0) raising herself to 100: not allowed, so
// rejected by the auth rules against its own auth events.
func (f *evilFixture) powerGrab() *pdu.Event {
	empty := ""
	pl := f.room.StateEvent("m.room.power_levels", "")
	content := map[string]any{}
	for _, m := range pl.Content().Members() {
		content[m.Key] = m.Value
	}
	users := map[string]any{f.mallory: 100}
	for _, m := range pl.Content().Get("users").Members() {
		users[m.Key] = m.Value
	}
	content["users"] = users
	return f.room.Build(f.mallory, "m.room.power_levels", &empty, content)
}

// sendPowerGrab sends a power grab and checks it is rejected.
func (f *evilFixture) sendPowerGrab(t *testing.T) *pdu.Event {
	t.Helper()
	ev := f.powerGrab()
	if e, listed := f.evil.Send(f.hs1, ev)[ev.ID()]; !listed || e == "" {
		t.Fatalf("the power-level grab: listed %v, error %q; want rejected", listed, e)
	}
	return ev
}

// Event auth: a rejected event may still be a prev_event; an event on
// top of it with good auth events is accepted (spec, "Rejection": later
// events that reference it are allowed if they pass auth).
func TestEvilEventAuthRejectedPrevEvent(t *testing.T) {
	f := newEvilFixture(t)
	evilPL := f.sendPowerGrab(t)
	p := f.room.Proto(f.mallory, "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": "after a rejected event"})
	p.PrevEvents = []string{evilPL.ID()}
	p.Depth = evilPL.Depth() + 1
	after := f.evil.Build(f.room.Ver, p)
	if got := f.evil.Send(f.hs1, after); got[after.ID()] != "" {
		t.Fatalf("an event whose prev_event was rejected but whose auth is good: %q", got[after.ID()])
	}
	f.room.Add(after)
	if !slices.Contains(f.alice.Messages(f.roomID), after.ID()) {
		t.Fatalf("the event is not in alice's timeline")
	}
	f.stillUsable(t)
}

// History visibility / rejected events: a rejected event is never sent to
// clients, not even when asked for by ID.
func TestEvilRejectedEventHiddenFromClients(t *testing.T) {
	f := newEvilFixture(t)
	evilPL := f.sendPowerGrab(t)
	f.notInRoom(t, evilPL.ID())
}

// Federation event spoofing: the peer sends an event whose sender is a
// user of hs1, signed only by itself.
func TestEvilEventSpoofingForgedSender(t *testing.T) {
	f := newEvilFixture(t)
	forged := f.evil.Build(f.room.Ver, f.room.Proto(f.alice.ID, "m.room.message", nil,
		map[string]any{"msgtype": "m.text", "body": "I am alice, honest"}))
	f.refused(t, forged, "a PDU with a forged sender")
	f.stillUsable(t)
}

// DoS via unbounded structures: a PDU over 65,536 bytes is dropped; a
// transaction over 50 PDUs or 100 EDUs is refused; the limits themselves
// pass.
func TestEvilResourceLimits(t *testing.T) {
	f := newEvilFixture(t)
	ev := f.room.Build(f.mallory, "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": "small"})
	big := cjson.Encode(ev.Object().With("content", cjson.MustFromGo(map[string]any{"msgtype": "m.text", "body": strings.Repeat("x", pdu.MaxEventSize)})))
	got := f.evil.SendRaw(f.hs1, big)
	if _, listed := got[ev.ID()]; listed {
		t.Fatalf("an oversized PDU got an entry: %v", got)
	}
	f.notInRoom(t, ev.ID())

	// At the limits: 50 PDUs and 100 EDUs are taken.
	var pdus, edus []json.RawMessage
	var ids []string
	for i := 0; i < 50; i++ {
		m := f.room.Message(f.mallory, "batch")
		pdus, ids = append(pdus, m.JSON()), append(ids, m.ID())
	}
	for i := 0; i < 100; i++ {
		edus = append(edus, TypingEDU(f.roomID, f.mallory, i%2 == 0))
	}
	st, b := f.evil.SendTxn(f.hs1, f.evil.NextTxnID(), pdus, edus)
	if st != http.StatusOK {
		t.Fatalf("50 PDUs and 100 EDUs: %d %s", st, b)
	}
	res := TxnResults(t, b)
	for _, id := range ids {
		if e, listed := res[id]; !listed || e != "" {
			t.Fatalf("PDU %s of a full transaction: listed %v, error %q", id, listed, e)
		}
	}
	// One over.
	extra := f.room.Build(f.mallory, "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": "one too many"})
	for _, c := range []struct {
		name       string
		pdus, edus []json.RawMessage
	}{
		{"51 PDUs", append(slices.Clone(pdus), extra.JSON()), nil},
		{"101 EDUs", nil, append(slices.Clone(edus), TypingEDU(f.roomID, f.mallory, true))},
	} {
		st, b := f.evil.SendTxn(f.hs1, f.evil.NextTxnID(), c.pdus, c.edus)
		if st != http.StatusBadRequest {
			t.Fatalf("%s: %d %s, want 400", c.name, st, b)
		}
	}
	f.notInRoom(t, extra.ID())
	f.stillUsable(t)
}

// otherKey is a fresh ed25519 private key: a signature with it under the
// peer's key ID does not verify.
func otherKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Authn of federation requests (X-Matrix): a request without a valid
// signature from its origin for this destination, method, URI and body is
// refused with 401 M_UNAUTHORIZED; a retried transaction is answered from
// the deduplication store, not processed again.
func TestEvilXMatrixAuthentication(t *testing.T) {
	f := newEvilFixture(t)
	ev := f.room.Build(f.mallory, "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": "authenticated"})
	txnID := f.evil.NextTxnID()
	uri := "/_matrix/federation/v1/send/" + txnID
	body := f.evil.TxnBody([]json.RawMessage{ev.JSON()}, nil)
	captured := f.evil.Authorization(f.hs1.Name, "PUT", uri, body)
	wrongKey, err := xmatrix.Sign(signing.Key{ID: f.evil.Key.ID, Private: otherKey(t)}, "PUT", uri, f.evil.Name, f.hs1.Name, body)
	if err != nil {
		t.Fatal(err)
	}
	asHS2, err := xmatrix.Sign(f.evil.Key, "PUT", uri, f.hs2.Name, f.hs1.Name, body)
	if err != nil {
		t.Fatal(err)
	}
	otherBody := f.evil.TxnBody(nil, []json.RawMessage{TypingEDU(f.roomID, f.mallory, true)})
	makeJoin := "/_matrix/federation/v1/make_join/" + url.PathEscape(f.roomID) + "/" + url.PathEscape(f.evil.UserID("x")) + "?ver=12"
	for _, c := range []struct {
		name, method, uri string
		body              []byte
		authz             string
	}{
		{"no header", "PUT", uri, body, ""},
		{"another scheme", "PUT", uri, body, "Bearer " + captured},
		{"destination is another server", "PUT", uri, body, f.evil.Authorization(f.hs2.Name, "PUT", uri, body)},
		{"signature by another key", "PUT", uri, body, wrongKey},
		{"origin claimed to be hs2", "PUT", uri, body, asHS2},
		{"header replayed on another URI", "PUT", "/_matrix/federation/v1/send/" + f.evil.NextTxnID(), body, captured},
		{"header replayed with another body", "PUT", uri, otherBody, captured},
		{"header replayed with another method", "GET", makeJoin, nil, captured},
		{"header without body on a request with one", "PUT", uri, body, f.evil.Authorization(f.hs1.Name, "PUT", uri, nil)},
	} {
		st, b := f.evil.DoWithAuth(f.hs1, c.method, c.uri, c.body, c.authz)
		var e struct {
			Errcode string `json:"errcode"`
		}
		json.Unmarshal(b, &e)
		if st != http.StatusUnauthorized || e.Errcode != "M_UNAUTHORIZED" {
			t.Errorf("%s: %d %s, want 401 M_UNAUTHORIZED", c.name, st, b)
		}
	}
	if st, b := f.evil.Do(f.hs1, "GET", makeJoin, nil); st != http.StatusOK {
		t.Fatalf("make_join signed for itself: %d %s", st, b)
	}
	f.notInTimeline(t, ev.ID())

	// The genuine request, then the same transaction again: the same
	// answer; and the same transaction ID with another body: still the
	// stored answer, and the new event is not processed.
	st, first := f.evil.DoWithAuth(f.hs1, "PUT", uri, body, captured)
	if st != http.StatusOK {
		t.Fatalf("the genuine request: %d %s", st, first)
	}
	if got := TxnResults(t, first); got[ev.ID()] != "" {
		t.Fatalf("the genuine event: %v", got)
	}
	f.room.Add(ev)
	st, again := f.evil.DoWithAuth(f.hs1, "PUT", uri, body, captured)
	if st != http.StatusOK || string(again) != string(first) {
		t.Fatalf("the retried transaction: %d %s, want 200 %s", st, again, first)
	}
	sneaky := f.room.Build(f.mallory, "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": "smuggled in a retry"})
	st, third := f.evil.Do(f.hs1, "PUT", uri, f.evil.TxnBody([]json.RawMessage{sneaky.JSON()}, nil))
	if st != http.StatusOK || string(third) != string(first) {
		t.Fatalf("the transaction ID reused with another body: %d %s, want the stored %s", st, third, first)
	}
	f.notInRoom(t, sneaky.ID())
	f.stillUsable(t)
}

// Event signing oracle (CVE-2026-24471): a resident server's make_join
// template is never signed as given. hs1 rebuilds the join from its own
// content and the template's DAG position, or refuses the template.
func TestEvilSigningOracleMakeJoinTemplate(t *testing.T) {
	n := NewNetwork(t)
	hs1 := n.Add("hs1.test")
	evil := n.AddEvil("evil.test")
	alice := hs1.Register("alice")
	start := time.Now()
	join := func(roomID string) (int, map[string]any) {
		return alice.Call("POST", "/_matrix/client/v3/join/"+url.PathEscape(roomID)+"?via=evil.test", map[string]any{"reason": "hello"})
	}
	sendJoins := func(roomID string) []Inbound {
		var out []Inbound
		for _, in := range evil.Inbound("PUT") {
			if strings.HasPrefix(in.URI, "/_matrix/federation/v2/send_join/"+url.PathEscape(roomID)+"/") {
				out = append(out, in)
			}
		}
		return out
	}
	set := func(k string, v any) func(cjson.Value) cjson.Value {
		return func(tmpl cjson.Value) cjson.Value { return tmpl.With(k, cjson.MustFromGo(v)) }
	}
	for _, c := range []struct {
		name   string
		tamper func(cjson.Value) cjson.Value
	}{
		{"another sender", set("sender", evil.UserID("eve"))},
		{"another state key", set("state_key", evil.UserID("eve"))},
		{"not a member event", set("type", "m.room.power_levels")},
		{"a ban", set("content", map[string]any{"membership": "ban"})},
		{"a leave", set("content", map[string]any{"membership": "leave"})},
		{"another room", set("room_id", "!elsewhere:evil.test")},
		{"no content", func(tmpl cjson.Value) cjson.Value { return tmpl.Without("content") }},
	} {
		room := evil.Host("eve")
		room.TamperTemplates(c.tamper)
		if st, b := join(room.ID); st == http.StatusOK {
			t.Errorf("%s: the join succeeded: %v", c.name, b)
		}
		if got := sendJoins(room.ID); len(got) != 0 {
			t.Errorf("%s: hs1 sent a join built on the template: %s", c.name, got[0].Body)
		}
	}

	// A template with extra content and fields: hs1 joins with its own
	// event. The resident also hands back a join with words put in
	// alice's mouth; hs1 keeps only what it signed.
	room := evil.Host("eve")
	room.TamperTemplates(func(tmpl cjson.Value) cjson.Value {
		return tmpl.With("content", cjson.MustFromGo(map[string]any{"membership": "join", "displayname": "evil", "com.evil.marker": "pwned"})).
			With("origin_server_ts", cjson.IntOf(1)).
			With("com.evil.top", cjson.StrOf("pwned")).
			With("unsigned", cjson.MustFromGo(map[string]any{"com.evil": "pwned"}))
	})
	room.TamperJoinAnswers(func(join cjson.Value) cjson.Value {
		return join.With("content", cjson.MustFromGo(map[string]any{"membership": "join", "displayname": "evil"}))
	})
	if st, b := join(room.ID); st != http.StatusOK {
		t.Fatalf("the join through a template with extras: %d %v", st, b)
	}
	got := sendJoins(room.ID)
	if len(got) != 1 {
		t.Fatalf("%d send_join requests, want 1", len(got))
	}
	signed, err := pdu.Parse(room.Ver, got[0].Body)
	if err != nil {
		t.Fatalf("the join hs1 sent: %v", err)
	}
	if c := string(cjson.Encode(signed.Content())); c != `{"membership":"join","reason":"hello"}` {
		t.Errorf("hs1 signed content %s", c)
	}
	allowed := []string{"auth_events", "content", "depth", "hashes", "origin_server_ts", "prev_events", "room_id", "sender", "signatures", "state_key", "type"}
	for _, m := range signed.Object().Members() {
		if !slices.Contains(allowed, m.Key) {
			t.Errorf("hs1 signed a field %q from the template", m.Key)
		}
	}
	if ts := signed.OriginServerTS(); ts < start.UnixMilli() {
		t.Errorf("hs1 signed origin_server_ts %d from the template", ts)
	}
	if st, b := alice.Call("GET", "/_matrix/client/v3/rooms/"+url.PathEscape(room.ID)+"/state/m.room.member/"+url.PathEscape(alice.ID), nil); st != http.StatusOK || b["displayname"] != nil {
		t.Errorf("alice's join as hs1 holds it: %d %v", st, b)
	}

	// The room works: alice's message reaches the resident server.
	msg := alice.Send(room.ID, "hello from hs1")
	Eventually(t, 20*time.Second, "alice's message at the peer", func() bool {
		_, ok := evil.ReceivedPDUs(room.Ver)[msg]
		return ok
	})
}

// DoS (resource): a flood of transactions is answered, each with 200 or
// 429 M_LIMIT_EXCEEDED and a retry time; the heap does not grow without
// bound and the room keeps working.
func TestEvilDoSTransactionFlood(t *testing.T) {
	f := newEvilFixture(t)
	const total, workers = 2000, 8
	heapBefore := heapInUse()
	base := f.room.Proto(f.mallory, "m.room.message", nil, map[string]any{"msgtype": "m.text"})
	type answer struct {
		status int
		body   []byte
		err    error
		pdu    string
	}
	answers := make([]answer, total)
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				edus := []json.RawMessage{TypingEDU(f.roomID, f.mallory, i%2 == 0)}
				var pdus []json.RawMessage
				if i%20 == 0 { // forks: every one on the same parent
					p := base
					p.Content = cjson.MustFromGo(map[string]any{"msgtype": "m.text", "body": "flood " + strconv.Itoa(i)})
					ev, err := f.room.Ver.Build(p, f.evil.Name, f.evil.Key)
					if err != nil {
						answers[i].err = err
						continue
					}
					pdus, answers[i].pdu = []json.RawMessage{ev.JSON()}, ev.ID()
				}
				st, b, err := f.evil.TryDo(f.hs1, "PUT", "/_matrix/federation/v1/send/flood"+strconv.Itoa(i), f.evil.TxnBody(pdus, edus))
				answers[i].status, answers[i].body, answers[i].err = st, b, err
			}
		}()
	}
	for i := 0; i < total; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	ok, limited := 0, 0
	for i, a := range answers {
		if a.err != nil {
			t.Fatalf("transaction %d: %v", i, a.err)
		}
		switch a.status {
		case http.StatusOK:
			ok++
			if res := TxnResults(t, a.body); a.pdu != "" && res[a.pdu] != "" {
				t.Errorf("transaction %d: its event: %q", i, res[a.pdu])
			}
		case http.StatusTooManyRequests:
			limited++
			var e struct {
				Errcode      string `json:"errcode"`
				RetryAfterMS int64  `json:"retry_after_ms"`
			}
			if json.Unmarshal(a.body, &e) != nil || e.Errcode != "M_LIMIT_EXCEEDED" || e.RetryAfterMS <= 0 {
				t.Errorf("transaction %d: 429 with %s", i, a.body)
			}
		default:
			t.Errorf("transaction %d: %d %s", i, a.status, a.body)
		}
	}
	t.Logf("%d answered 200, %d answered 429", ok, limited)
	if ok == 0 {
		t.Fatalf("no transaction of the flood was taken")
	}
	if grown := heapInUse() - heapBefore; grown > 256<<20 {
		t.Errorf("the heap grew by %d MiB during the flood", grown>>20)
	}
	f.stillUsable(t)
}

// heapInUse is the live heap after a collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

// EDU spoofing (CVE-2023-42453): typing and receipts the peer sends for
// users of other servers are dropped; its own users' are taken.
func TestEvilEDUSpoofing(t *testing.T) {
	f := newEvilFixture(t)
	target := f.room.Message(f.mallory, "read this")
	if got := f.evil.Send(f.hs1, target); got[target.ID()] != "" {
		t.Fatalf("the peer's message: %q", got[target.ID()])
	}
	spoofed := []json.RawMessage{
		TypingEDU(f.roomID, f.alice.ID, true),
		TypingEDU(f.roomID, f.bob.ID, true),
		ReceiptEDU(f.roomID, f.alice.ID, target.ID()),
		ReceiptEDU(f.roomID, f.bob.ID, target.ID()),
		TypingEDU(f.roomID, "@nobody:evil.test", true), // not in the room
	}
	if st, b := f.evil.SendTxn(f.hs1, f.evil.NextTxnID(), nil, spoofed); st != http.StatusOK {
		t.Fatalf("spoofed EDUs: %d %s", st, b)
	}
	// The peer's own user, after: once alice sees it, she would have
	// seen the spoofed ones.
	own := []json.RawMessage{TypingEDU(f.roomID, f.mallory, true), ReceiptEDU(f.roomID, f.mallory, target.ID())}
	if st, b := f.evil.SendTxn(f.hs1, f.evil.NextTxnID(), nil, own); st != http.StatusOK {
		t.Fatalf("the peer's own EDUs: %d %s", st, b)
	}
	var typing, readers []string
	Eventually(t, 10*time.Second, "mallory's typing and receipt in alice's sync", func() bool {
		typing, readers = ephemeralOf(f.alice, f.roomID, target.ID())
		return slices.Contains(typing, f.mallory) && slices.Contains(readers, f.mallory)
	})
	for _, u := range []string{f.alice.ID, f.bob.ID, "@nobody:evil.test"} {
		if slices.Contains(typing, u) {
			t.Errorf("the peer made %s type", u)
		}
		if slices.Contains(readers, u) {
			t.Errorf("the peer made %s read %s", u, target.ID())
		}
	}
	f.stillUsable(t)
}

// ephemeralOf reads, from one /sync of u, who types in the room and who
// has read eventID.
func ephemeralOf(u *User, roomID, eventID string) (typing, readers []string) {
	rooms, _ := u.Sync("", 0)["rooms"].(map[string]any)
	join, _ := rooms["join"].(map[string]any)
	r, _ := join[roomID].(map[string]any)
	eph, _ := r["ephemeral"].(map[string]any)
	evs, _ := eph["events"].([]any)
	for _, e := range evs {
		ev, _ := e.(map[string]any)
		c, _ := ev["content"].(map[string]any)
		switch ev["type"] {
		case "m.typing":
			ids, _ := c["user_ids"].([]any)
			for _, id := range ids {
				typing = append(typing, fmt.Sprint(id))
			}
		case "m.receipt":
			rc, _ := c[eventID].(map[string]any)
			rd, _ := rc["m.read"].(map[string]any)
			for id := range rd {
				readers = append(readers, id)
			}
		}
	}
	return typing, readers
}

// Server ACLs: once the room's m.room.server_acl denies the peer, its
// PDUs get an error entry and its make_join and state requests are
// refused with 403; everyone else carries on.
func TestEvilServerACLDeniesPeer(t *testing.T) {
	f := newEvilFixture(t)
	if st, b := f.alice.SetState(f.roomID, "m.room.server_acl", "", map[string]any{
		"allow": []string{"*"}, "deny": []string{"evil.test"}, "allow_ip_literals": false}); st != http.StatusOK {
		t.Fatalf("setting the ACL: %d %v", st, b)
	}
	ev := f.room.Build(f.mallory, "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": "denied"})
	if got := f.evil.Send(f.hs1, ev); got[ev.ID()] == "" {
		t.Fatalf("a PDU from a denied server: %v, want an error entry", got)
	}
	f.notInRoom(t, ev.ID())
	for _, c := range []struct{ name, method, uri string }{
		{"make_join", "GET", "/_matrix/federation/v1/make_join/" + url.PathEscape(f.roomID) + "/" + url.PathEscape(f.evil.UserID("x")) + "?ver=12"},
		{"state_ids", "GET", "/_matrix/federation/v1/state_ids/" + url.PathEscape(f.roomID) + "?event_id=" + url.QueryEscape(ev.ID())},
		{"backfill", "GET", "/_matrix/federation/v1/backfill/" + url.PathEscape(f.roomID) + "?v=" + url.QueryEscape(f.room.StateEvent("m.room.member", f.mallory).ID()) + "&limit=10"},
	} {
		st, b := f.evil.Do(f.hs1, c.method, c.uri, nil)
		var e struct {
			Errcode string `json:"errcode"`
		}
		json.Unmarshal(b, &e)
		if st != http.StatusForbidden || e.Errcode != "M_FORBIDDEN" {
			t.Errorf("%s from a denied server: %d %s, want 403 M_FORBIDDEN", c.name, st, b)
		}
	}
	f.honestStillWork(t)
}

// Federation event spoofing (CVE-2020-26257): the membership handshakes
// only take the requesting server's own users, in the room of the path.
func TestEvilEventSpoofingMembershipHandshakes(t *testing.T) {
	f := newEvilFixture(t)
	other := f.alice.CreateRoom(map[string]any{"preset": "public_chat"})
	errcode := func(b []byte) string {
		var e struct {
			Errcode string `json:"errcode"`
		}
		json.Unmarshal(b, &e)
		return e.Errcode
	}
	// make_join for a user of hs1.
	if st, b := f.evil.MakeJoin(f.hs1, f.roomID, "@carol:hs1.test"); st != http.StatusForbidden {
		t.Errorf("make_join for a user of hs1: %d %s, want 403", st, b)
	}
	// A genuine join of trudy, sent to the path of another room.
	st, b := f.evil.MakeJoin(f.hs1, f.roomID, f.evil.UserID("trudy"))
	if st != http.StatusOK {
		t.Fatalf("make_join: %d %s", st, b)
	}
	var mk struct {
		Event cjson.Value `json:"event"`
	}
	if err := json.Unmarshal(b, &mk); err != nil {
		t.Fatal(err)
	}
	prev, _ := mk.Event.Get("prev_events").StringList()
	auth, _ := mk.Event.Get("auth_events").StringList()
	depth, _ := mk.Event.Get("depth").IntValue()
	trudy := f.evil.UserID("trudy")
	proto := pdu.Proto{Type: "m.room.member", StateKey: &trudy, Sender: trudy, RoomID: f.roomID,
		Content: cjson.MustFromGo(map[string]any{"membership": "join"}), PrevEvents: prev, AuthEvents: auth, Depth: depth}
	join := f.evil.Build(f.room.Ver, proto)
	sendJoin := func(roomID, eventID string, body []byte) (int, []byte) {
		return f.evil.Do(f.hs1, "PUT", "/_matrix/federation/v2/send_join/"+url.PathEscape(roomID)+"/"+url.PathEscape(eventID), body)
	}
	if st, b := sendJoin(other, join.ID(), join.JSON()); st/100 != 4 {
		t.Errorf("a join sent to another room's path: %d %s", st, b)
	}
	if st, b := sendJoin(f.roomID, f.room.StateEvent("m.room.member", f.mallory).ID(), join.JSON()); st/100 != 4 {
		t.Errorf("a join sent under another event ID: %d %s", st, b)
	}
	// A join of carol (hs1) signed by the peer.
	carol := "@carol:hs1.test"
	forged := proto
	forged.StateKey, forged.Sender = &carol, carol
	fj := f.evil.Build(f.room.Ver, forged)
	if st, b := sendJoin(f.roomID, fj.ID(), fj.JSON()); st != http.StatusForbidden {
		t.Errorf("a join of a user of hs1: %d %s, want 403", st, b)
	}
	// An invite to alice "from" bob (hs2), sent by the peer.
	alice := f.alice.ID
	inv := f.evil.Build(f.room.Ver, f.room.Proto(f.bob.ID, "m.room.member", &alice, map[string]any{"membership": "invite"}))
	body, _ := json.Marshal(map[string]any{"room_version": f.room.Ver.ID, "event": json.RawMessage(inv.JSON()), "invite_room_state": []any{}})
	if st, b := f.evil.Do(f.hs1, "PUT", "/_matrix/federation/v2/invite/"+url.PathEscape(f.roomID)+"/"+url.PathEscape(inv.ID()), body); st != http.StatusForbidden {
		t.Errorf("an invite from a user of hs2: %d %s, want 403", st, b)
	}
	// A transaction whose origin is another server.
	txn, _ := json.Marshal(map[string]any{"origin": f.hs2.Name, "origin_server_ts": time.Now().UnixMilli(), "pdus": []any{}, "edus": []any{}})
	if st, b := f.evil.Do(f.hs1, "PUT", "/_matrix/federation/v1/send/"+f.evil.NextTxnID(), txn); st != http.StatusForbidden || errcode(b) != "M_FORBIDDEN" {
		t.Errorf("a transaction with origin hs2: %d %s, want 403", st, b)
	}
	for _, room := range []string{f.roomID, other} {
		for _, u := range []string{trudy, carol} {
			if m := f.alice.MembershipIn(room, u); m != "" {
				t.Errorf("%s is %q in %s", u, m, room)
			}
		}
	}
	// The genuine join at the right path is taken.
	if st, b := sendJoin(f.roomID, join.ID(), join.JSON()); st != http.StatusOK {
		t.Fatalf("trudy's genuine join: %d %s", st, b)
	}
	f.room.Add(join)
	f.stillUsable(t)
}

// History visibility / info leaks (CVE-2022-39335): a server with no user
// in a room reads nothing of it.
func TestEvilInfoLeakReadsOfAForeignRoom(t *testing.T) {
	f := newEvilFixture(t)
	private := f.alice.CreateRoom(map[string]any{"preset": "private_chat"})
	secret := f.alice.Send(private, "the secret")
	esc := url.PathEscape(private)
	for _, c := range []struct {
		name, method, uri string
		body              []byte
	}{
		{"event", "GET", "/_matrix/federation/v1/event/" + url.PathEscape(secret), nil},
		{"state", "GET", "/_matrix/federation/v1/state/" + esc + "?event_id=" + url.QueryEscape(secret), nil},
		{"state_ids", "GET", "/_matrix/federation/v1/state_ids/" + esc + "?event_id=" + url.QueryEscape(secret), nil},
		{"event_auth", "GET", "/_matrix/federation/v1/event_auth/" + esc + "/" + url.PathEscape(secret), nil},
		{"backfill", "GET", "/_matrix/federation/v1/backfill/" + esc + "?v=" + url.QueryEscape(secret) + "&limit=10", nil},
		{"get_missing_events", "POST", "/_matrix/federation/v1/get_missing_events/" + esc,
			[]byte(`{"earliest_events":[],"latest_events":["` + secret + `"],"limit":10,"min_depth":0}`)},
		{"make_join of an invite-only room", "GET", "/_matrix/federation/v1/make_join/" + esc + "/" + url.PathEscape(f.mallory) + "?ver=12", nil},
	} {
		st, b := f.evil.Do(f.hs1, c.method, c.uri, c.body)
		if st != http.StatusForbidden && st != http.StatusNotFound {
			t.Errorf("%s: %d %s, want 403 or 404", c.name, st, b)
		}
		if strings.Contains(string(b), "the secret") {
			t.Errorf("%s: the answer leaks the room: %s", c.name, b)
		}
	}
	// The same reads of the shared room work: the refusals above are
	// about the room, not the requests.
	msg := f.alice.Send(f.roomID, "public")
	if st, b := f.evil.Do(f.hs1, "GET", "/_matrix/federation/v1/event/"+url.PathEscape(msg), nil); st != http.StatusOK {
		t.Errorf("event of the shared room: %d %s", st, b)
	}
	f.stillUsable(t)
}

// Canonical JSON (CVE-2020-26890): a PDU that is not canonical JSON
// (duplicate keys, floats, NaN, integers beyond 2^53, lone surrogates)
// never enters the room. A transaction carrying one cannot be signed (the
// signature covers the body's canonical form), so the whole request is
// refused, or, if it is taken, the PDU is dropped.
func TestEvilCanonicalJSONBadPDUs(t *testing.T) {
	f := newEvilFixture(t)
	ev := f.room.Build(f.mallory, "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": "canonical"})
	raw := string(ev.JSON())
	depth := `"depth":` + strconv.FormatInt(ev.Depth(), 10)
	if !strings.Contains(raw, depth) || !strings.Contains(raw, `"body":"canonical"`) {
		t.Fatalf("unexpected encoding %s", raw)
	}
	for _, c := range []struct{ name, raw string }{
		{"duplicate key", "{" + `"content":{"body":"evil","msgtype":"m.text"},` + raw[1:]},
		{"float", strings.Replace(raw, depth, depth+".0", 1)},
		{"exponent", strings.Replace(raw, depth, depth+"e0", 1)},
		{"NaN", strings.Replace(raw, `"body":"canonical"`, `"body":NaN`, 1)},
		{"beyond 2^53", strings.Replace(raw, depth, `"depth":9007199254740993`, 1)},
		{"lone surrogate", strings.Replace(raw, `"body":"canonical"`, `"body":"\ud800"`, 1)},
	} {
		uri := "/_matrix/federation/v1/send/" + f.evil.NextTxnID()
		body := []byte(`{"edus":[],"origin":"evil.test","origin_server_ts":` + strconv.FormatInt(time.Now().UnixMilli(), 10) + `,"pdus":[` + c.raw + `]}`)
		st, b := f.evil.DoWithAuth(f.hs1, "PUT", uri, body, f.evil.Authorization(f.hs1.Name, "PUT", uri, nil))
		switch st {
		case http.StatusUnauthorized, http.StatusBadRequest:
		case http.StatusOK:
			for id, e := range TxnResults(t, b) {
				if e == "" {
					t.Errorf("%s: event %s accepted", c.name, id)
				}
			}
		default:
			t.Errorf("%s: %d %s", c.name, st, b)
		}
	}
	f.notInTimeline(t, ev.ID())
	f.stillUsable(t)
}

// History visibility leak over federation: with history_visibility
// "joined", a server whose users joined later must not read what was said
// before (spec, C-S "Room History Visibility", applied per server the way
// other homeservers do: such events are withheld or served redacted).
func TestEvilInfoLeakHistoryVisibilityJoined(t *testing.T) {
	n := NewNetwork(t)
	hs1 := n.Add("hs1.test")
	evil := n.AddEvil("evil.test")
	alice := hs1.Register("alice")
	roomID := alice.CreateRoom(map[string]any{"preset": "public_chat"})
	if st, b := alice.SetState(roomID, "m.room.history_visibility", "", map[string]any{"history_visibility": "joined"}); st != http.StatusOK {
		t.Fatalf("history visibility: %d %v", st, b)
	}
	before := alice.Send(roomID, "said before evil.test joined")
	room := evil.JoinRoom(hs1, roomID, "mallory")
	join := room.StateEvent("m.room.member", evil.UserID("mallory")).ID()
	after := alice.Send(roomID, "said after evil.test joined")
	esc := url.PathEscape(roomID)
	latest, _ := json.Marshal(map[string]any{"earliest_events": []string{}, "latest_events": []string{after}, "limit": 50})
	for _, c := range []struct {
		name, method, uri string
		body              []byte
	}{
		{"backfill", "GET", "/_matrix/federation/v1/backfill/" + esc + "?v=" + url.QueryEscape(join) + "&limit=50", nil},
		{"get_missing_events", "POST", "/_matrix/federation/v1/get_missing_events/" + esc, latest},
		{"event", "GET", "/_matrix/federation/v1/event/" + url.PathEscape(before), nil},
	} {
		st, b := evil.Do(hs1, c.method, c.uri, c.body)
		if strings.Contains(string(b), "said before") {
			t.Errorf("%s: %d, the answer holds what was said before the peer joined", c.name, st)
		}
	}
	if st, b := evil.Do(hs1, "GET", "/_matrix/federation/v1/event/"+url.PathEscape(after), nil); st != http.StatusOK || !strings.Contains(string(b), "said after") {
		t.Errorf("the event after the join: %d %s", st, b)
	}
}

// Malicious invites (CVE-2024-52815): an invite whose stripped state is
// garbage is co-signed and shown, and the invitee's /sync keeps working.
func TestEvilInvitesMalformedStrippedState(t *testing.T) {
	n := NewNetwork(t)
	hs1 := n.Add("hs1.test")
	evil := n.AddEvil("evil.test")
	alice := hs1.Register("alice")
	target, shown := alice.ID, 0
	for i, state := range []any{
		[]any{1, "x", nil, []any{}, true},
		[]any{map[string]any{"type": 5, "state_key": []any{}, "content": "not an object"}},
		[]any{map[string]any{"type": "m.room.create", "state_key": "", "sender": 7, "content": map[string]any{"room_version": 12, "creator": nil}}},
		[]any{map[string]any{"type": "m.room.name", "state_key": "", "sender": "@eve:evil.test", "content": map[string]any{"name": strings.Repeat("n", 40000)}}},
	} {
		room := evil.Host("eve")
		inv := room.Build(evil.UserID("eve"), "m.room.member", &target, map[string]any{"membership": "invite"})
		body, _ := json.Marshal(map[string]any{"room_version": room.Ver.ID, "event": json.RawMessage(inv.JSON()), "invite_room_state": state})
		st, b := evil.Do(hs1, "PUT", "/_matrix/federation/v2/invite/"+url.PathEscape(room.ID)+"/"+url.PathEscape(inv.ID()), body)
		if st/100 == 5 {
			t.Fatalf("invite %d: %d %s", i, st, b)
		}
		accepted := st == http.StatusOK
		if accepted {
			shown++
		}
		st, sync := alice.Call("GET", "/_matrix/client/v3/sync?timeout=0", nil)
		if st != http.StatusOK {
			t.Fatalf("alice's /sync after invite %d: %d %v", i, st, sync)
		}
		rooms, _ := sync["rooms"].(map[string]any)
		invites, _ := rooms["invite"].(map[string]any)
		if _, shown := invites[room.ID]; accepted && !shown {
			t.Errorf("invite %d was co-signed but alice's /sync does not show it", i)
		}
	}
	if shown == 0 {
		t.Fatalf("no invite was taken: the checks above saw nothing")
	}
	// Alice still works.
	roomID := alice.CreateRoom(map[string]any{"preset": "private_chat"})
	msg := alice.Send(roomID, "fine")
	if got := alice.Messages(roomID); !slices.Contains(got, msg) {
		t.Fatalf("alice's own room after the invites: %v", got)
	}
}

package federation

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"hearth/services/federation/keys"
	"hearth/services/federation/queue"
	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
	"hearth/services/matrix/signing"
	"hearth/services/roomserver"
	"hearth/services/storage"
	"hearth/services/transport"
)

// The fuzz targets of the inbound side of /send: the transaction parser,
// the PDU pipeline (verification and the room server) and the EDU
// handlers. The PDU and EDU targets run against a real room server and key
// ring on an in-memory Badger: a public room of local.test that
// @bob:remote.test has joined.

const (
	fuzzLocal  = "local.test"
	fuzzRemote = "remote.test"
	fuzzAlice  = "@alice:local.test"
	fuzzBob    = "@bob:remote.test"
)

// fuzzEnv is a federation Server with one room.
type fuzzEnv struct {
	s         *Server
	rooms     *roomserver.Server
	roomID    string
	ver       *pdu.RoomVersion
	localKey  signing.Key
	remoteKey signing.Key
	sink      *fakeEDUSink
}

func fuzzKey(tb testing.TB, b byte) signing.Key {
	tb.Helper()
	k, err := signing.KeyFromSeed("ed25519:f"+string('a'+b), []byte(strings.Repeat(string('a'+b), ed25519.SeedSize)))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// keyServer serves remote.test's keys to the ring; every other server is
// unreachable.
type keyServer struct {
	key signing.Key
	now func() time.Time
}

func (k keyServer) ServerKeys(_ context.Context, server string) ([]byte, error) {
	if server != fuzzRemote {
		return nil, errors.New("unreachable")
	}
	return keys.OwnKeys(fuzzRemote, keys.FromSigningKey(k.key), nil, 0, k.now())
}

func (keyServer) NotaryQuery(context.Context, string, []byte) ([]byte, error) {
	return nil, errors.New("no notary")
}

// noRoute makes every outbound request fail at once.
type noRoute struct{}

func (noRoute) Resolve(context.Context, string) ([]transport.Route, error) {
	return nil, errors.New("no network in fuzzing")
}

type noSender struct{}

func (noSender) SendTransaction(context.Context, string, string, []byte) (*queue.Result, error) {
	return nil, errors.New("no network in fuzzing")
}

// fakeEDUSink records what the EDU handlers pass on.
type fakeEDUSink struct {
	mu       sync.Mutex
	typing   []edusCall
	receipts []edusCall
	presence []edusCall
}

type edusCall struct{ room, user string }

func (f *fakeEDUSink) SetTyping(roomID, userID string, _ bool, _ time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.typing = append(f.typing, edusCall{roomID, userID})
}

func (f *fakeEDUSink) PutReceipt(_ context.Context, roomID, _, userID, _, _ string) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.receipts = append(f.receipts, edusCall{roomID, userID})
	return uint64(len(f.receipts)), nil
}

func (f *fakeEDUSink) Set(userID, _ string, _ *string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.presence = append(f.presence, edusCall{"", userID})
	return nil
}

// calls returns and forgets everything recorded.
func (f *fakeEDUSink) calls() []edusCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := append(append(append([]edusCall(nil), f.typing...), f.receipts...), f.presence...)
	f.typing, f.receipts, f.presence = nil, nil, nil
	return out
}

func newFuzzEnv(tb testing.TB, verID string) *fuzzEnv {
	tb.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := storage.Open(ctx, storage.Options{InMemory: true, Logger: log}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	e := &fuzzEnv{localKey: fuzzKey(tb, 0), remoteKey: fuzzKey(tb, 1), sink: &fakeEDUSink{}}
	if e.rooms, err = roomserver.New(ctx, db, roomserver.Options{ServerName: fuzzLocal, Key: e.localKey, Logger: log}); err != nil {
		tb.Fatal(err)
	}
	self := keys.FromSigningKey(e.localKey)
	ring, err := keys.NewRing(keys.RingOptions{DB: db, ServerName: fuzzLocal, Self: self,
		Fetcher: keyServer{e.remoteKey, time.Now}, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	q, err := queue.New(queue.Options{DB: db, Origin: fuzzLocal, Sender: noSender{}, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	client := NewClient(ClientOptions{Origin: fuzzLocal, Signer: self, Router: noRoute{}, Logger: log})
	e.s, err = New(Options{ServerName: fuzzLocal, Signer: self, Keys: ring, Rooms: e.rooms, Queue: q, Client: client, DB: db,
		EDUs: e.sink, Presence: e.sink, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	if e.roomID, err = e.rooms.CreateRoom(ctx, roomserver.CreateRequest{Creator: fuzzAlice, Version: verID, Preset: "public_chat"}); err != nil {
		tb.Fatal(err)
	}
	e.ver = pdu.MustVersion(verID)
	// Bob of remote.test joins, through the make_join template.
	_, tmpl, err := e.rooms.MembershipTemplate(ctx, e.roomID, fuzzBob, "join")
	if err != nil {
		tb.Fatal(err)
	}
	prev, _ := tmpl.Get("prev_events").StringList()
	auth, _ := tmpl.Get("auth_events").StringList()
	depth, _ := tmpl.Get("depth").IntValue()
	bob := fuzzBob
	join := e.remoteEvent(tb, pdu.Proto{Type: "m.room.member", StateKey: &bob, Sender: fuzzBob, RoomID: e.roomID,
		Content: cjson.MustFromGo(map[string]any{"membership": "join"}), PrevEvents: prev, AuthEvents: auth, Depth: depth})
	if res := e.s.processPDUs(ctx, fuzzRemote, []json.RawMessage{join.JSON()}); res[join.ID()].Error != "" {
		tb.Fatalf("bob's join: %v", res)
	}
	return e
}

// remoteEvent signs an event as remote.test.
func (e *fuzzEnv) remoteEvent(tb testing.TB, p pdu.Proto) *pdu.Event {
	tb.Helper()
	if p.OriginServerTS == 0 {
		p.OriginServerTS = time.Now().UnixMilli()
	}
	ev, err := e.ver.Build(p, fuzzRemote, e.remoteKey)
	if err != nil {
		tb.Fatal(err)
	}
	return ev
}

// bobEvent is an event of bob on the room's current state, signed by
// remote.test.
func (e *fuzzEnv) bobEvent(tb testing.TB, typ string, stateKey *string, content map[string]any) *pdu.Event {
	tb.Helper()
	ctx := context.Background()
	c := cjson.MustFromGo(content)
	// A message bob may send gives the DAG position; the auth events are
	// the spec's selection for this event, allowed or not.
	at, err := e.rooms.BuildLocal(ctx, e.roomID, roomserver.Event{Type: "m.room.message", Sender: fuzzBob, Content: cjson.EmptyObject()})
	if err != nil {
		tb.Fatal(err)
	}
	state, err := e.rooms.CurrentState(ctx, e.roomID)
	if err != nil {
		tb.Fatal(err)
	}
	sk := ""
	if stateKey != nil {
		sk = *stateKey
	}
	return e.remoteEvent(tb, pdu.Proto{Type: typ, StateKey: stateKey, Sender: fuzzBob, RoomID: e.roomID, Content: c,
		PrevEvents: at.PrevEvents(), AuthEvents: e.ver.SelectAuthEvents(typ, sk, fuzzBob, c, state), Depth: at.Depth()})
}

// staticLookup knows only the two real keys: what a correctly signed
// event verifies with, independent of the ring under test.
func (e *fuzzEnv) staticLookup(server, keyID string) (ed25519.PublicKey, bool) {
	switch {
	case server == fuzzLocal && keyID == e.localKey.ID:
		return e.localKey.Public(), true
	case server == fuzzRemote && keyID == e.remoteKey.ID:
		return e.remoteKey.Public(), true
	}
	return nil, false
}

// FuzzTransaction: parseTransaction never panics, and what it accepts
// holds at most 50 PDUs and 100 EDUs.
func FuzzTransaction(f *testing.F) {
	f.Add([]byte(`{"origin":"remote.test","origin_server_ts":1,"pdus":[],"edus":[]}`))
	f.Add([]byte(`{"origin":"remote.test","pdus":[{"type":"m.room.message"}],"edus":[{"edu_type":"m.typing","content":{}}]}`))
	f.Add([]byte(`{"origin":"remote.test","pdus":[` + strings.Repeat(`{},`, 50) + `{}]}`))
	f.Add([]byte(`{"origin":"remote.test","edus":[` + strings.Repeat(`{},`, 100) + `{}]}`))
	f.Add([]byte(`{"pdus":[],"pdus":[{}]}`))
	f.Add([]byte(`{"origin_server_ts":1.5,"pdus":null}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"pdus":{}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		txn, err := parseTransaction(body)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != 400 {
				t.Fatalf("error %v is not a 400 Matrix error", err)
			}
			return
		}
		if len(txn.PDUs) > maxTxnPDUs || len(txn.EDUs) > maxTxnEDUs {
			t.Fatalf("accepted %d PDUs and %d EDUs", len(txn.PDUs), len(txn.EDUs))
		}
	})
}

// FuzzReceivedPDU: any bytes as a PDU from remote.test, through
// processPDUs into a v12 room and through verifyPDU for every room
// version. Nothing panics; whatever is accepted carries valid signatures
// of the servers that must sign it, and a verified event either matches
// its content hash or has been redacted.
func FuzzReceivedPDU(f *testing.F) {
	e := newFuzzEnv(f, "12")
	empty, bob := "", fuzzBob
	seeds := []*pdu.Event{
		e.bobEvent(f, "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": "hello"}),
		e.bobEvent(f, "m.room.member", &bob, map[string]any{"membership": "join", "displayname": "Bob"}),
		e.bobEvent(f, "m.room.topic", &empty, map[string]any{"topic": "bob's topic"}),
		e.bobEvent(f, "m.room.power_levels", &empty, map[string]any{"users": map[string]any{fuzzBob: 100}}),
	}
	for _, ev := range seeds {
		f.Add(ev.JSON())
		// The same with the content changed: the hash fails.
		f.Add(cjson.Encode(ev.Object().With("content", cjson.MustFromGo(map[string]any{"body": "changed"}))))
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"room_id":"` + e.roomID + `","type":"m.room.message","sender":"@alice:local.test","content":{}}`))
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw []byte) {
		for id, r := range e.s.processPDUs(ctx, fuzzRemote, []json.RawMessage{raw}) {
			if r.Error != "" {
				continue
			}
			ev, err := pdu.Parse(e.ver, raw)
			if err != nil {
				t.Fatalf("accepted %s, which does not parse: %v", id, err)
			}
			if ev.ID() != id {
				t.Fatalf("accepted as %s, the event's ID is %s", id, ev.ID())
			}
			if err := pdu.VerifySignatures(ev, e.staticLookup); err != nil {
				t.Fatalf("accepted %s without valid signatures: %v", id, err)
			}
		}
		for _, v := range pdu.SupportedVersions() {
			ver := pdu.MustVersion(v)
			ev, err := e.s.verifyPDU(ctx, ver, raw)
			if err != nil {
				continue
			}
			if err := pdu.VerifySignatures(ev, e.staticLookup); err != nil {
				t.Fatalf("room v%s: verifyPDU passed %s without valid signatures: %v", v, ev.ID(), err)
			}
			if !ev.ContentHashOK() && !ev.Object().Equal(ver.Redact(ev.Object())) {
				t.Fatalf("room v%s: verifyPDU passed %s with a bad content hash, unredacted", v, ev.ID())
			}
		}
	})
}

// FuzzEDUs: any EDUs from remote.test. Nothing panics, and the sink only
// hears of remote.test's own users who are joined to the room.
func FuzzEDUs(f *testing.F) {
	e := newFuzzEnv(f, "12")
	edu := func(typ string, content any) string {
		b, _ := json.Marshal(map[string]any{"edu_type": typ, "content": content})
		return string(b)
	}
	for _, user := range []string{fuzzBob, fuzzAlice, "@carol:remote.test"} {
		f.Add(edu("m.typing", map[string]any{"room_id": e.roomID, "user_id": user, "typing": true}))
		f.Add(edu("m.receipt", map[string]any{e.roomID: map[string]any{"m.read": map[string]any{
			user: map[string]any{"data": map[string]any{"ts": 1}, "event_ids": []string{"$x"}}}}}))
		f.Add(edu("m.presence", map[string]any{"push": []any{map[string]any{"user_id": user, "presence": "online"}}}))
	}
	f.Add(edu("m.receipt", map[string]any{"!other:local.test": map[string]any{"m.read": map[string]any{fuzzBob: map[string]any{"event_ids": []string{"$x"}}}}}))
	f.Add(`{"edu_type":"m.typing","content":null}`)
	f.Add(`{"edu_type":"m.receipt","content":{"a":{"m.read":{"b":{"event_ids":[]}}}}}`)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw string) {
		e.sink.calls()
		e.s.processEDUs(ctx, fuzzRemote, []json.RawMessage{json.RawMessage(raw)})
		for _, c := range e.sink.calls() {
			if pdu.Domain(c.user) != fuzzRemote {
				t.Fatalf("an EDU from %s about %s was passed on", fuzzRemote, c.user)
			}
			if c.room == "" { // presence: any user of the origin
				continue
			}
			if m, err := e.rooms.Membership(ctx, c.room, c.user); err != nil || m != "join" {
				t.Fatalf("an EDU about %s in %s (membership %q, %v) was passed on", c.user, c.room, m, err)
			}
		}
	})
}

// TestFuzzEnvSeeds checks the fuzz targets' invariants are not vacuous:
// the environment accepts a correct PDU and passes on bob's EDUs, and
// refuses the same PDU signed by the wrong key and alice's EDUs.
func TestFuzzEnvSeeds(t *testing.T) {
	e := newFuzzEnv(t, "12")
	ctx := context.Background()
	good := e.bobEvent(t, "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": "hello"})
	if res := e.s.processPDUs(ctx, fuzzRemote, []json.RawMessage{good.JSON()}); res[good.ID()].Error != "" {
		t.Fatalf("a correct PDU: %v", res)
	}
	p := pdu.Proto{Type: "m.room.message", Sender: fuzzBob, RoomID: e.roomID, Content: cjson.MustFromGo(map[string]any{"body": "forged"}),
		PrevEvents: []string{good.ID()}, AuthEvents: good.AuthEvents(), Depth: good.Depth() + 1, OriginServerTS: time.Now().UnixMilli()}
	forged, err := e.ver.Build(p, fuzzRemote, signing.Key{ID: e.remoteKey.ID, Private: fuzzKey(t, 2).Private})
	if err != nil {
		t.Fatal(err)
	}
	if res := e.s.processPDUs(ctx, fuzzRemote, []json.RawMessage{forged.JSON()}); res[forged.ID()].Error == "" {
		t.Fatalf("a mis-signed PDU was accepted: %v", res)
	}
	typing := func(user string) json.RawMessage {
		b, _ := json.Marshal(map[string]any{"edu_type": "m.typing", "content": map[string]any{"room_id": e.roomID, "user_id": user, "typing": true}})
		return b
	}
	e.s.processEDUs(ctx, fuzzRemote, []json.RawMessage{typing(fuzzBob), typing(fuzzAlice)})
	got := e.sink.calls()
	if len(got) != 1 || got[0] != (edusCall{e.roomID, fuzzBob}) {
		t.Fatalf("EDUs passed on: %v, want bob's typing only", got)
	}
}

package federationtest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hearth/services/federation/keys"
	"hearth/services/federation/xmatrix"
	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
	"hearth/services/matrix/signing"
	"hearth/services/transport"
)

// EvilPeer is a malicious Matrix server inside the test process: it has
// its own signing key and TLS certificate from the network's CA, is found
// through the network's DNS like any node, and sends whatever the test
// asks for, correctly signed or not. It answers its key requests and
// records every request it receives; as the resident server of rooms it
// hosts (Host) it hands out make_join templates a test may tamper with.
type EvilPeer struct {
	Name string
	Key  signing.Key

	t      testing.TB
	net    *Network
	mux    *http.ServeMux
	client *http.Client
	txn    atomic.Int64

	mu      sync.Mutex
	inbound []Inbound
	hosted  map[string]*EvilRoom
}

// Inbound is one request the peer received.
type Inbound struct {
	Method string
	URI    string // path and query as received
	Header http.Header
	Body   []byte
}

// maxInbound bounds what the peer remembers; floods stay cheap.
const maxInbound = 10_000

// AddEvil starts a malicious peer named name (e.g. "evil.test") and
// registers it in the network's DNS with an SRV record.
func (n *Network) AddEvil(name string) *EvilPeer {
	t := n.t
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	rand.Read(seed)
	key, err := signing.KeyFromSeed("ed25519:evil", seed)
	if err != nil {
		t.Fatal(err)
	}
	e := &EvilPeer{Name: name, Key: key, t: t, net: n, mux: http.NewServeMux(), hosted: map[string]*EvilRoom{}}
	e.routes()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(tls.NewListener(ln, transport.ServerTLSConfig(n.CA.Issue(t, name))))
	t.Cleanup(func() { srv.Close() })
	n.DNS.AddHost(name, "127.0.0.1")
	n.DNS.AddSRV("matrix-fed", "tcp", name, name, uint16(ln.Addr().(*net.TCPAddr).Port), 10, 10)

	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: n.CA.Pool(), MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: true,
		DialContext:       e.dialNode,
	}
	e.client = &http.Client{Transport: tr, Timeout: 60 * time.Second}
	t.Cleanup(tr.CloseIdleConnections)
	return e
}

// dialNode connects to a node's federation listener directly (not
// through the links between nodes: the peer is outside them).
func (e *EvilPeer) dialNode(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	e.net.mu.Lock()
	nd, ok := e.net.nodes[host]
	e.net.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("evil peer: no node %q", host)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, "127.0.0.1:"+strconv.Itoa(nd.fedPort))
}

// UserID is the ID of a user of the peer.
func (e *EvilPeer) UserID(localpart string) string { return "@" + localpart + ":" + e.Name }

// ServeHTTP records the request and answers it.
func (e *EvilPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))
	e.mu.Lock()
	if len(e.inbound) < maxInbound {
		e.inbound = append(e.inbound, Inbound{Method: r.Method, URI: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body})
	}
	e.mu.Unlock()
	if _, pattern := e.mux.Handler(r); pattern == "" {
		writeEvilJSON(w, http.StatusNotFound, map[string]string{"errcode": "M_UNRECOGNIZED", "error": "evil peer: unrecognized"})
		return
	}
	e.mux.ServeHTTP(w, r)
}

// Handle adds an endpoint (a net/http pattern such as
// "GET /_matrix/federation/v1/state/{roomId}"); register each pattern once.
func (e *EvilPeer) Handle(pattern string, h http.HandlerFunc) { e.mux.HandleFunc(pattern, h) }

// Inbound returns the requests received so far whose method is method.
func (e *EvilPeer) Inbound(method string) []Inbound {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Inbound
	for _, in := range e.inbound {
		if in.Method == method {
			out = append(out, in)
		}
	}
	return out
}

// ReceivedPDUs returns the PDUs other servers sent the peer in /send
// transactions, by event ID, parsed for the room version ver.
func (e *EvilPeer) ReceivedPDUs(ver *pdu.RoomVersion) map[string]*pdu.Event {
	out := map[string]*pdu.Event{}
	for _, in := range e.Inbound("PUT") {
		var txn struct {
			PDUs []json.RawMessage `json:"pdus"`
		}
		if json.Unmarshal(in.Body, &txn) != nil {
			continue
		}
		for _, raw := range txn.PDUs {
			if ev, err := pdu.Parse(ver, raw); err == nil {
				out[ev.ID()] = ev
			}
		}
	}
	return out
}

func (e *EvilPeer) routes() {
	ownKeys := func(w http.ResponseWriter, r *http.Request) {
		b, err := keys.OwnKeys(e.Name, keys.FromSigningKey(e.Key), nil, 0, time.Now())
		if err != nil {
			writeEvilJSON(w, http.StatusInternalServerError, map[string]string{"errcode": "M_UNKNOWN", "error": err.Error()})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}
	e.Handle("GET /_matrix/key/v2/server", ownKeys)
	e.Handle("GET /_matrix/key/v2/server/{keyId}", ownKeys)
	e.Handle("PUT /_matrix/federation/v1/send/{txnId}", func(w http.ResponseWriter, r *http.Request) {
		writeEvilJSON(w, http.StatusOK, map[string]any{"pdus": map[string]any{}})
	})
	e.Handle("GET /_matrix/federation/v1/make_join/{roomId}/{userId}", e.serveMakeJoin)
	e.Handle("PUT /_matrix/federation/v2/send_join/{roomId}/{eventId}", e.serveSendJoin)
}

func writeEvilJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// Authorization is the X-Matrix header of a request from the peer to
// dest, signed with the peer's key.
func (e *EvilPeer) Authorization(dest, method, uri string, body []byte) string {
	e.t.Helper()
	h, err := xmatrix.Sign(e.Key, method, uri, e.Name, dest, body)
	if err != nil {
		e.t.Fatalf("evil peer: signing a request: %v", err)
	}
	return h
}

// Do sends a correctly signed request to a node and returns the status
// and body of the answer.
func (e *EvilPeer) Do(nd *Node, method, uri string, body []byte) (int, []byte) {
	e.t.Helper()
	return e.DoWithAuth(nd, method, uri, body, e.Authorization(nd.Name, method, uri, body))
}

// DoWithAuth sends a request with the given Authorization header value
// ("" sends none). uri is sent exactly as given.
func (e *EvilPeer) DoWithAuth(nd *Node, method, uri string, body []byte, authz string) (int, []byte) {
	e.t.Helper()
	st, b, err := e.do(nd, method, uri, body, authz)
	if err != nil {
		e.t.Fatalf("evil peer: %v", err)
	}
	return st, b
}

// TryDo is Do for any goroutine: failures are returned, not fatal.
func (e *EvilPeer) TryDo(nd *Node, method, uri string, body []byte) (int, []byte, error) {
	authz, err := xmatrix.Sign(e.Key, method, uri, e.Name, nd.Name, body)
	if err != nil {
		return 0, nil, err
	}
	return e.do(nd, method, uri, body, authz)
}

func (e *EvilPeer) do(nd *Node, method, uri string, body []byte, authz string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, "https://"+nd.Name+uri, rd)
	if err != nil {
		return 0, nil, err
	}
	if got := req.URL.RequestURI(); got != uri {
		return 0, nil, fmt.Errorf("%q would be sent as %q", uri, got)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s on %s: %w", method, uri, nd.Name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, b, err
}

// NextTxnID is a fresh transaction ID.
func (e *EvilPeer) NextTxnID() string { return "evil" + strconv.FormatInt(e.txn.Add(1), 10) }

// TxnBody is the JSON of a /send transaction from the peer.
func (e *EvilPeer) TxnBody(pdus, edus []json.RawMessage) []byte {
	if pdus == nil {
		pdus = []json.RawMessage{}
	}
	if edus == nil {
		edus = []json.RawMessage{}
	}
	b, _ := json.Marshal(map[string]any{"origin": e.Name, "origin_server_ts": time.Now().UnixMilli(), "pdus": pdus, "edus": edus})
	return b
}

// SendTxn sends a /send transaction with raw PDUs and EDUs.
func (e *EvilPeer) SendTxn(nd *Node, txnID string, pdus, edus []json.RawMessage) (int, []byte) {
	e.t.Helper()
	return e.Do(nd, "PUT", "/_matrix/federation/v1/send/"+url.PathEscape(txnID), e.TxnBody(pdus, edus))
}

// Send sends events in one new transaction and returns the answer's
// "pdus" map: event ID → error ("" when accepted). An event the node
// dropped without an entry is absent. Anything but 200 fails the test.
func (e *EvilPeer) Send(nd *Node, evs ...*pdu.Event) map[string]string {
	e.t.Helper()
	raws := make([]json.RawMessage, len(evs))
	for i, ev := range evs {
		raws[i] = ev.JSON()
	}
	return e.SendRaw(nd, raws...)
}

// SendRaw is Send for raw PDU bytes. Like a well-behaved server it
// waits and retries when the node answers 429.
func (e *EvilPeer) SendRaw(nd *Node, raws ...json.RawMessage) map[string]string {
	e.t.Helper()
	txnID := e.NextTxnID()
	for try := 0; ; try++ {
		st, b := e.SendTxn(nd, txnID, raws, nil)
		if st == http.StatusTooManyRequests && try < 20 {
			var lim struct {
				RetryAfterMS int64 `json:"retry_after_ms"`
			}
			json.Unmarshal(b, &lim)
			time.Sleep(time.Duration(min(max(lim.RetryAfterMS, 1), 5000)) * time.Millisecond)
			continue
		}
		if st != http.StatusOK {
			e.t.Fatalf("evil peer: /send to %s: %d %s", nd.Name, st, b)
		}
		return TxnResults(e.t, b)
	}
}

// TxnResults decodes a /send answer into event ID → error.
func TxnResults(t testing.TB, body []byte) map[string]string {
	t.Helper()
	var resp struct {
		PDUs map[string]struct {
			Error string `json:"error"`
		} `json:"pdus"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("bad /send answer %s: %v", body, err)
	}
	out := map[string]string{}
	for id, r := range resp.PDUs {
		out[id] = r.Error
	}
	return out
}

// Build hashes and signs an event as the peer.
func (e *EvilPeer) Build(ver *pdu.RoomVersion, p pdu.Proto) *pdu.Event {
	e.t.Helper()
	return e.BuildAs(ver, p, e.Name, e.Key)
}

// BuildAs hashes and signs an event as server with key, whoever the
// sender is (forgeries).
func (e *EvilPeer) BuildAs(ver *pdu.RoomVersion, p pdu.Proto, server string, key signing.Key) *pdu.Event {
	e.t.Helper()
	if p.OriginServerTS == 0 {
		p.OriginServerTS = time.Now().UnixMilli()
	}
	ev, err := ver.Build(p, server, key)
	if err != nil {
		e.t.Fatalf("evil peer: building %s: %v", p.Type, err)
	}
	return ev
}

// MakeJoin asks a node for a join template; it returns the status and body.
func (e *EvilPeer) MakeJoin(nd *Node, roomID, userID string) (int, []byte) {
	e.t.Helper()
	q := url.Values{}
	for _, v := range pdu.SupportedVersions() {
		q.Add("ver", v)
	}
	return e.Do(nd, "GET", "/_matrix/federation/v1/make_join/"+url.PathEscape(roomID)+"/"+url.PathEscape(userID)+"?"+q.Encode(), nil)
}

// JoinRoom joins one of the peer's users to a room on a node: make_join,
// the peer's own join event built from the template, send_join, and the
// answer's state kept for building the next events.
func (e *EvilPeer) JoinRoom(nd *Node, roomID, localpart string) *EvilRoom {
	e.t.Helper()
	userID := e.UserID(localpart)
	st, b := e.MakeJoin(nd, roomID, userID)
	if st != http.StatusOK {
		e.t.Fatalf("evil peer: make_join on %s: %d %s", nd.Name, st, b)
	}
	var mk struct {
		RoomVersion string      `json:"room_version"`
		Event       cjson.Value `json:"event"`
	}
	if err := json.Unmarshal(b, &mk); err != nil {
		e.t.Fatalf("evil peer: make_join answer: %v", err)
	}
	ver, ok := pdu.Version(mk.RoomVersion)
	if !ok {
		e.t.Fatalf("evil peer: room version %q", mk.RoomVersion)
	}
	prev, _ := mk.Event.Get("prev_events").StringList()
	auth, _ := mk.Event.Get("auth_events").StringList()
	depth, _ := mk.Event.Get("depth").IntValue()
	sk := userID
	join := e.Build(ver, pdu.Proto{Type: "m.room.member", StateKey: &sk, Sender: userID, RoomID: roomID,
		Content: cjson.MustFromGo(map[string]any{"membership": "join"}), PrevEvents: prev, AuthEvents: auth, Depth: depth})
	st, b = e.Do(nd, "PUT", "/_matrix/federation/v2/send_join/"+url.PathEscape(roomID)+"/"+url.PathEscape(join.ID()), join.JSON())
	if st != http.StatusOK {
		e.t.Fatalf("evil peer: send_join on %s: %d %s", nd.Name, st, b)
	}
	var sj struct {
		State     []json.RawMessage `json:"state"`
		AuthChain []json.RawMessage `json:"auth_chain"`
	}
	if err := json.Unmarshal(b, &sj); err != nil {
		e.t.Fatalf("evil peer: send_join answer: %v", err)
	}
	r := e.newRoom(roomID, ver)
	for _, raw := range append(sj.AuthChain, sj.State...) {
		if ev, err := pdu.Parse(ver, raw); err == nil {
			r.events[ev.ID()] = ev
		}
	}
	for _, raw := range sj.State {
		if ev, err := pdu.Parse(ver, raw); err == nil && ev.IsState() {
			r.state[ev.Key()] = ev
		}
	}
	r.depth = depth - 1
	r.Add(join)
	return r
}

// EvilRoom is the peer's view of one room: the state and forward
// extremity it builds new events on, and the events it knows.
type EvilRoom struct {
	ID   string
	Ver  *pdu.RoomVersion
	peer *EvilPeer

	mu     sync.Mutex
	state  pdu.StateMap
	events map[string]*pdu.Event
	prev   []string
	depth  int64
	// tamper rewrites the make_join template of a hosted room, and
	// tamperAnswer the join event in its send_join answer.
	tamper, tamperAnswer func(cjson.Value) cjson.Value
}

func (e *EvilPeer) newRoom(roomID string, ver *pdu.RoomVersion) *EvilRoom {
	return &EvilRoom{ID: roomID, Ver: ver, peer: e, state: pdu.StateMap{}, events: map[string]*pdu.Event{}}
}

// Proto is an event on the room's current state and extremity: the auth
// events the spec selects, the peer's last event as prev_events.
func (r *EvilRoom) Proto(sender, typ string, stateKey *string, content map[string]any) pdu.Proto {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := cjson.MustFromGo(content)
	sk := ""
	if stateKey != nil {
		sk = *stateKey
	}
	return pdu.Proto{Type: typ, StateKey: stateKey, Sender: sender, RoomID: r.ID, Content: c,
		PrevEvents: slices.Clone(r.prev), AuthEvents: r.Ver.SelectAuthEvents(typ, sk, sender, c, r.state), Depth: r.depth + 1}
}

// Build is an event of the peer on the room's current state; the room's
// view does not change until Add.
func (r *EvilRoom) Build(sender, typ string, stateKey *string, content map[string]any) *pdu.Event {
	r.peer.t.Helper()
	return r.peer.Build(r.Ver, r.Proto(sender, typ, stateKey, content))
}

// Message builds a text message from sender and adds it to the room.
func (r *EvilRoom) Message(sender, body string) *pdu.Event {
	r.peer.t.Helper()
	ev := r.Build(sender, "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": body})
	r.Add(ev)
	return ev
}

// Add makes events part of the peer's view: the last one becomes the
// extremity, state events update the state.
func (r *EvilRoom) Add(evs ...*pdu.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range evs {
		r.events[ev.ID()] = ev
		if ev.IsState() {
			r.state[ev.Key()] = ev
		}
		r.prev = []string{ev.ID()}
		r.depth = max(r.depth, ev.Depth())
	}
}

// StateEvent is the peer's current state event for (typ, stateKey), or nil.
func (r *EvilRoom) StateEvent(typ, stateKey string) *pdu.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state.Get(typ, stateKey)
}

// Host creates a public room of room version 12 on the peer, with
// creator localpart, for which the peer is the resident server: it
// answers make_join and send_join for it.
func (e *EvilPeer) Host(localpart string) *EvilRoom {
	e.t.Helper()
	ver := pdu.MustVersion("12")
	creator, empty := e.UserID(localpart), ""
	create := e.Build(ver, pdu.Proto{Type: "m.room.create", StateKey: &empty, Sender: creator,
		Content: cjson.MustFromGo(map[string]any{"room_version": ver.ID}), Depth: 1})
	r := e.newRoom(pdu.RoomIDFromCreateEventID(create.ID()), ver)
	r.Add(create)
	member := creator
	r.Add(r.Build(creator, "m.room.member", &member, map[string]any{"membership": "join"}))
	r.Add(r.Build(creator, "m.room.power_levels", &empty, map[string]any{"users": map[string]any{}, "users_default": 0,
		"events_default": 0, "state_default": 50, "ban": 50, "kick": 50, "redact": 50, "invite": 0}))
	r.Add(r.Build(creator, "m.room.join_rules", &empty, map[string]any{"join_rule": "public"}))
	r.Add(r.Build(creator, "m.room.history_visibility", &empty, map[string]any{"history_visibility": "shared"}))
	e.mu.Lock()
	e.hosted[r.ID] = r
	e.mu.Unlock()
	return r
}

// TamperTemplates makes the peer rewrite every make_join template of
// this hosted room with f before handing it out.
func (r *EvilRoom) TamperTemplates(f func(template cjson.Value) cjson.Value) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tamper = f
}

// TamperJoinAnswers makes the peer rewrite the join event it returns in
// send_join answers of this hosted room (the room keeps the join it got).
func (r *EvilRoom) TamperJoinAnswers(f func(join cjson.Value) cjson.Value) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tamperAnswer = f
}

func (e *EvilPeer) hostedRoom(roomID string) *EvilRoom {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.hosted[roomID]
}

func (e *EvilPeer) serveMakeJoin(w http.ResponseWriter, r *http.Request) {
	room, userID := e.hostedRoom(r.PathValue("roomId")), r.PathValue("userId")
	if room == nil {
		writeEvilJSON(w, http.StatusNotFound, map[string]string{"errcode": "M_NOT_FOUND", "error": "no such room"})
		return
	}
	if !slices.Contains(r.URL.Query()["ver"], room.Ver.ID) {
		writeEvilJSON(w, http.StatusBadRequest, map[string]string{"errcode": "M_INCOMPATIBLE_ROOM_VERSION", "error": "v12 only"})
		return
	}
	sk := userID
	p := room.Proto(userID, "m.room.member", &sk, map[string]any{"membership": "join"})
	p.OriginServerTS = time.Now().UnixMilli()
	ev, err := room.Ver.Build(p, e.Name, e.Key)
	if err != nil {
		writeEvilJSON(w, http.StatusInternalServerError, map[string]string{"errcode": "M_UNKNOWN", "error": err.Error()})
		return
	}
	tmpl := ev.Object().Without("signatures", "hashes")
	room.mu.Lock()
	tamper := room.tamper
	room.mu.Unlock()
	if tamper != nil {
		tmpl = tamper(tmpl)
	}
	writeEvilJSON(w, http.StatusOK, map[string]any{"room_version": room.Ver.ID, "event": tmpl})
}

// serveSendJoin takes any join it is given into the hosted room and
// answers with the room's state; its auth chain is every event the peer
// holds (a hosted room's events are all state).
func (e *EvilPeer) serveSendJoin(w http.ResponseWriter, r *http.Request) {
	room := e.hostedRoom(r.PathValue("roomId"))
	if room == nil {
		writeEvilJSON(w, http.StatusNotFound, map[string]string{"errcode": "M_NOT_FOUND", "error": "no such room"})
		return
	}
	body, _ := io.ReadAll(r.Body)
	join, err := pdu.Parse(room.Ver, body)
	if err != nil || join.ID() != r.PathValue("eventId") {
		writeEvilJSON(w, http.StatusBadRequest, map[string]string{"errcode": "M_BAD_JSON", "error": fmt.Sprint("bad join: ", err)})
		return
	}
	room.mu.Lock()
	var state, chain []json.RawMessage
	for _, ev := range room.state {
		state = append(state, ev.JSON())
	}
	for _, ev := range room.events {
		chain = append(chain, ev.JSON())
	}
	tamper := room.tamperAnswer
	room.mu.Unlock()
	room.Add(join)
	answer := join.Object()
	if tamper != nil {
		answer = tamper(answer)
	}
	writeEvilJSON(w, http.StatusOK, map[string]any{"origin": e.Name, "state": state, "auth_chain": chain,
		"event": answer, "members_omitted": false, "servers_in_room": []string{e.Name}})
}

// TypingEDU is an m.typing EDU.
func TypingEDU(roomID, userID string, typing bool) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"edu_type": "m.typing", "content": map[string]any{"room_id": roomID, "user_id": userID, "typing": typing}})
	return b
}

// ReceiptEDU is an m.receipt EDU: userID has read eventID in roomID.
func ReceiptEDU(roomID, userID, eventID string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"edu_type": "m.receipt", "content": map[string]any{
		roomID: map[string]any{"m.read": map[string]any{userID: map[string]any{
			"data": map[string]any{"ts": time.Now().UnixMilli()}, "event_ids": []string{eventID}}}}}})
	return b
}

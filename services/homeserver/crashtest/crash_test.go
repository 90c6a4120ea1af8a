package crashtest

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"
)

// roomEvents pages /messages backward from the newest event to the room's
// creation and returns the events oldest first.
func roomEvents(t *testing.T, c *Client, token, room string) []map[string]any {
	t.Helper()
	var rev []map[string]any
	from := ""
	for page := 0; ; page++ {
		if page > 10000 {
			t.Fatal("/messages never reached the start of the room")
		}
		q := url.Values{"dir": {"b"}, "limit": {"100"}}
		if from != "" {
			q.Set("from", from)
		}
		b := c.Must(t, 200, "GET", "/_matrix/client/v3/rooms/"+url.PathEscape(room)+"/messages?"+q.Encode(), token, nil)
		chunk, _ := b["chunk"].([]any)
		for _, e := range chunk {
			rev = append(rev, e.(map[string]any))
		}
		end, _ := b["end"].(string)
		if end == "" || len(chunk) == 0 {
			break
		}
		if end == from {
			t.Fatalf("/messages end token %q did not move", end)
		}
		from = end
	}
	out := make([]map[string]any, len(rev))
	for i, e := range rev {
		out[len(rev)-1-i] = e
	}
	if len(out) == 0 || out[0]["type"] != "m.room.create" {
		t.Fatalf("backward pagination did not end at m.room.create (first event: %v)", out[:min(1, len(out))])
	}
	return out
}

// sender is the client side of the kill test: sequential sends with
// increasing txnIds, remembering every answer.
type sender struct {
	c       *Client
	token   string
	room    string
	next    int              // next fresh txnId
	acked   []int            // txnIds in the order of their first 200
	answers map[int][]string // every event_id a 200 returned, per txnId
	pending []int            // sent without an answer (lost in a kill)
	failure error            // an HTTP answer other than 200
}

func (s *sender) path(txn int) string {
	return "/_matrix/client/v3/rooms/" + url.PathEscape(s.room) + "/send/m.room.message/" + strconv.Itoa(txn)
}

// send sends txn once. It reports whether it got an HTTP answer.
func (s *sender) send(txn int) bool {
	st, b, err := s.c.Do("PUT", s.path(txn), s.token, map[string]any{"msgtype": "m.text", "body": strconv.Itoa(txn)})
	if err != nil {
		return false
	}
	if st != 200 {
		s.failure = fmt.Errorf("PUT txn %d: status %d: %v", txn, st, b)
		return true
	}
	id, _ := b["event_id"].(string)
	if id == "" {
		s.failure = fmt.Errorf("PUT txn %d: 200 without event_id: %v", txn, b)
		return true
	}
	if len(s.answers[txn]) == 0 {
		s.acked = append(s.acked, txn)
	}
	s.answers[txn] = append(s.answers[txn], id)
	return true
}

// run sends fresh txnIds until a request gets no answer (the server was
// killed) or stop is closed.
func (s *sender) run(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		txn := s.next
		s.next++
		if !s.send(txn) {
			s.pending = append(s.pending, txn)
			return
		}
		if s.failure != nil {
			return
		}
	}
}

func TestKill9KeepsAcknowledgedMessages(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the hearth binary; skipped with -short")
	}
	began := time.Now()
	bin := Build(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	p := Start(t, bin, dataDir)
	c := NewClient(p.Base, 5*time.Second)
	_, token := c.Register(t, "writer", "correct horse battery")
	room, _ := c.Must(t, 200, "POST", "/_matrix/client/v3/createRoom", token, map[string]any{"preset": "private_chat", "name": "kill -9"})["room_id"].(string)
	if room == "" {
		t.Fatal("createRoom returned no room_id")
	}
	s := &sender{c: c, token: token, room: room, next: 1, answers: map[int][]string{}}

	const rounds = 5
	var kills []string
	retried := 0
	for round := 1; round <= rounds; round++ {
		delay := time.Duration(10+rand.IntN(291)) * time.Millisecond
		stop := make(chan struct{})
		done := make(chan struct{})
		before := len(s.acked)
		go func() { defer close(done); s.run(stop) }()
		time.Sleep(delay)
		p.Kill()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			close(stop)
			<-done
			t.Fatalf("round %d: the client did not notice the kill", round)
		}
		if s.failure != nil {
			t.Fatalf("round %d: %v", round, s.failure)
		}
		kills = append(kills, fmt.Sprintf("%v/%d acked", delay, len(s.acked)-before))

		p = Start(t, bin, dataDir)
		c.SetBase(p.Base)
		// The lost requests again, until they get an answer: same txnId,
		// so at most one event each.
		for len(s.pending) > 0 {
			txn := s.pending[0]
			if !s.send(txn) {
				t.Fatalf("round %d: retrying txn %d after restart: no answer", round, txn)
			}
			if s.failure != nil {
				t.Fatalf("round %d: retrying txn %d: %v", round, txn, s.failure)
			}
			s.pending = s.pending[1:]
			retried++
		}
		// Acknowledged txnIds again: the same event, not a new one.
		for i := max(0, len(s.acked)-2); i < len(s.acked); i++ {
			if !s.send(s.acked[i]) || s.failure != nil {
				t.Fatalf("round %d: resending acknowledged txn %d: %v", round, s.acked[i], s.failure)
			}
		}
	}
	t.Logf("%d rounds (kill delay/messages acknowledged: %v), %d messages acknowledged, %d requests lost in a kill and retried", rounds, kills, len(s.acked), retried)
	if len(s.acked) == 0 {
		t.Fatal("no message was acknowledged at all")
	}

	for _, txn := range s.acked {
		ids := s.answers[txn]
		for _, id := range ids[1:] {
			if id != ids[0] {
				t.Errorf("txn %d: 200s with different event_ids %v", txn, ids)
				break
			}
		}
	}
	events := roomEvents(t, c, token, room)
	count := map[int]int{}
	idOf := map[string]int{}
	var order []int
	for _, e := range events {
		if e["type"] != "m.room.message" {
			continue
		}
		content, _ := e["content"].(map[string]any)
		body, _ := content["body"].(string)
		n, err := strconv.Atoi(body)
		if err != nil {
			t.Errorf("unexpected message body %q", body)
			continue
		}
		count[n]++
		order = append(order, n)
		id, _ := e["event_id"].(string)
		idOf[id] = n
	}
	for _, txn := range s.acked {
		switch count[txn] {
		case 1:
		case 0:
			t.Errorf("acknowledged txn %d (%s) lost", txn, s.answers[txn][0])
		default:
			t.Errorf("txn %d stored %d times", txn, count[txn])
		}
		if n, ok := idOf[s.answers[txn][0]]; !ok {
			t.Errorf("event %s of txn %d not in the room", s.answers[txn][0], txn)
		} else if n != txn {
			t.Errorf("event %s of txn %d has body %d", s.answers[txn][0], txn, n)
		}
	}
	if len(order) != len(s.acked) {
		t.Errorf("room has %d messages, %d acknowledged", len(order), len(s.acked))
	}
	if !sort.IntsAreSorted(order) {
		t.Errorf("messages out of send order: %v", order)
	}
	t.Logf("total %v", time.Since(began).Round(time.Millisecond))
}

func TestRestartKeepsEverything(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and restarts the hearth binary; skipped with -short")
	}
	bin := Build(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	p := Start(t, bin, dataDir)
	c := NewClient(p.Base, 10*time.Second)
	alice, aliceTok := c.Register(t, "alice", "alice password")
	bob, bobTok := c.Register(t, "bob", "bob password!")
	b := c.Must(t, 200, "POST", "/_matrix/client/v3/login", "", map[string]any{
		"type": "m.login.password", "identifier": map[string]any{"type": "m.id.user", "user": "bob"},
		"password": "bob password!", "device_id": "BOBLAPTOP",
	})
	bobLaptop, _ := b["access_token"].(string)
	room, _ := c.Must(t, 200, "POST", "/_matrix/client/v3/createRoom", aliceTok, map[string]any{"preset": "private_chat", "name": "Kept"})["room_id"].(string)
	roomPath := "/_matrix/client/v3/rooms/" + url.PathEscape(room)
	c.Must(t, 200, "POST", roomPath+"/invite", aliceTok, map[string]any{"user_id": bob})
	c.Must(t, 200, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room), bobTok, map[string]any{})
	sendMsg := func(txn, body string) string {
		t.Helper()
		id, _ := c.Must(t, 200, "PUT", roomPath+"/send/m.room.message/"+txn, aliceTok, map[string]any{"msgtype": "m.text", "body": body})["event_id"].(string)
		return id
	}
	sendMsg("1", "before the token")
	since, _ := c.Must(t, 200, "GET", "/_matrix/client/v3/sync", bobTok, nil)["next_batch"].(string)
	if since == "" {
		t.Fatal("initial sync without next_batch")
	}
	afterToken := sendMsg("2", "after the token")

	start := time.Now()
	if err := p.Stop(15 * time.Second); err != nil {
		t.Fatalf("hearth exited with %v after SIGTERM\n%s", err, p.Log())
	}
	stopped := time.Since(start)
	p = Start(t, bin, dataDir)
	t.Logf("SIGTERM stop %v, restart %v", stopped.Round(time.Millisecond), (time.Since(start) - stopped).Round(time.Millisecond))
	c.SetBase(p.Base)

	for _, tc := range []struct{ token, user, device string }{{aliceTok, alice, ""}, {bobTok, bob, ""}, {bobLaptop, bob, "BOBLAPTOP"}} {
		b := c.Must(t, 200, "GET", "/_matrix/client/v3/account/whoami", tc.token, nil)
		if b["user_id"] != tc.user || (tc.device != "" && b["device_id"] != tc.device) {
			t.Errorf("whoami after restart: %v, want %s %s", b, tc.user, tc.device)
		}
	}
	if s, b, err := c.Do("POST", "/_matrix/client/v3/register", "", map[string]any{"username": "alice", "password": "another one", "auth": map[string]any{"type": "m.login.dummy"}}); err != nil || s != 400 || b["errcode"] != "M_USER_IN_USE" {
		t.Errorf("registering alice again after restart: %d %v %v", s, b, err)
	}
	c.Must(t, 200, "POST", "/_matrix/client/v3/login", "", map[string]any{
		"type": "m.login.password", "identifier": map[string]any{"type": "m.id.user", "user": "alice"}, "password": "alice password",
	})
	joined, _ := c.Must(t, 200, "GET", "/_matrix/client/v3/joined_rooms", bobTok, nil)["joined_rooms"].([]any)
	if len(joined) != 1 || joined[0] != room {
		t.Errorf("bob's joined_rooms after restart: %v", joined)
	}
	if name := c.Must(t, 200, "GET", roomPath+"/state/m.room.name", bobTok, nil)["name"]; name != "Kept" {
		t.Errorf("room name after restart: %v", name)
	}
	var bodies []string
	for _, e := range roomEvents(t, c, bobTok, room) {
		if e["type"] == "m.room.message" {
			bodies = append(bodies, e["content"].(map[string]any)["body"].(string))
		}
	}
	if fmt.Sprint(bodies) != "[before the token after the token]" {
		t.Errorf("messages after restart: %q", bodies)
	}
	// The same txnId after the restart is still the same event.
	if id := sendMsg("2", "after the token"); id != afterToken {
		t.Errorf("txn 2 after restart: %s, before %s", id, afterToken)
	}
	afterRestart := sendMsg("3", "after the restart")

	// An incremental sync from the old token: 200, and only what is newer.
	b = c.Must(t, 200, "GET", "/_matrix/client/v3/sync?timeout=0&since="+url.QueryEscape(since), bobTok, nil)
	var ids []string
	if rooms, ok := b["rooms"].(map[string]any); ok {
		if j, ok := rooms["join"].(map[string]any)[room].(map[string]any); ok {
			for _, e := range j["timeline"].(map[string]any)["events"].([]any) {
				ids = append(ids, e.(map[string]any)["event_id"].(string))
			}
		}
	}
	if fmt.Sprint(ids) != fmt.Sprint([]string{afterToken, afterRestart}) {
		t.Errorf("incremental sync from the pre-restart token: timeline %v, want [%s %s]", ids, afterToken, afterRestart)
	}
	next, _ := b["next_batch"].(string)
	// And a long poll from the new token wakes up for a new message.
	type res struct {
		status int
		body   map[string]any
		err    error
	}
	got := make(chan res, 1)
	go func() {
		s, b, err := c.Do("GET", "/_matrix/client/v3/sync?timeout=5000&since="+url.QueryEscape(next), bobTok, nil)
		got <- res{s, b, err}
	}()
	time.Sleep(100 * time.Millisecond)
	latest := sendMsg("4", "long poll")
	select {
	case r := <-got:
		if r.err != nil || r.status != 200 {
			t.Fatalf("long poll after restart: %d %v %v", r.status, r.body, r.err)
		}
		j, _ := r.body["rooms"].(map[string]any)["join"].(map[string]any)[room].(map[string]any)
		evs, _ := j["timeline"].(map[string]any)["events"].([]any)
		if len(evs) != 1 || evs[0].(map[string]any)["event_id"] != latest {
			t.Errorf("long poll after restart returned %v", evs)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("long poll after restart did not return")
	}
	if err := p.Stop(15 * time.Second); err != nil {
		t.Errorf("second SIGTERM: %v", err)
	}
}

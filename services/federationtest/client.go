package federationtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// User is a logged-in user of a node, with a minimal Matrix client.
type User struct {
	t     testing.TB
	Node  *Node
	ID    string
	Token string
}

var txnCounter atomic.Int64

// Register creates a user on the node and logs in.
func (nd *Node) Register(localpart string) *User {
	t := nd.net.t
	t.Helper()
	u := &User{t: t, Node: nd}
	st, b := u.Call("POST", "/_matrix/client/v3/register", map[string]any{
		"username": localpart, "password": "correct horse battery", "auth": map[string]any{"type": "m.login.dummy"}})
	if st != 200 {
		t.Fatalf("register %s on %s: %d %v", localpart, nd.Name, st, b)
	}
	u.ID, u.Token = b["user_id"].(string), b["access_token"].(string)
	return u
}

// Call makes a client API request as the user and decodes the answer.
func (u *User) Call(method, path string, body any) (int, map[string]any) {
	u.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	u.Node.mu.Lock()
	base := u.Node.base
	u.Node.mu.Unlock()
	req, _ := http.NewRequest(method, base+path, rd)
	if u.Token != "" {
		req.Header.Set("Authorization", "Bearer "+u.Token)
	}
	resp, err := u.Node.client.Do(req)
	if err != nil {
		u.t.Fatalf("%s %s on %s: %v", method, path, u.Node.Name, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// Must is Call that fails the test unless the answer is 200.
func (u *User) Must(method, path string, body any) map[string]any {
	u.t.Helper()
	st, b := u.Call(method, path, body)
	if st != 200 {
		u.t.Fatalf("%s %s as %s: %d %v", method, path, u.ID, st, b)
	}
	return b
}

// CreateRoom creates a room with the given createRoom body.
func (u *User) CreateRoom(body map[string]any) string {
	u.t.Helper()
	return u.Must("POST", "/_matrix/client/v3/createRoom", body)["room_id"].(string)
}

// Join joins a room by ID or alias, through the given servers.
func (u *User) Join(roomIDOrAlias string, via ...string) (int, map[string]any) {
	u.t.Helper()
	q := url.Values{}
	for _, v := range via {
		q.Add("via", v)
	}
	return u.Call("POST", "/_matrix/client/v3/join/"+url.PathEscape(roomIDOrAlias)+"?"+q.Encode(), map[string]any{})
}

// Send sends a text message and returns its event ID.
func (u *User) Send(roomID, body string) string {
	u.t.Helper()
	txn := strconv.FormatInt(txnCounter.Add(1), 10)
	b := u.Must("PUT", "/_matrix/client/v3/rooms/"+url.PathEscape(roomID)+"/send/m.room.message/"+txn,
		map[string]any{"msgtype": "m.text", "body": body})
	return b["event_id"].(string)
}

// SetState sets a state event.
func (u *User) SetState(roomID, typ, stateKey string, content map[string]any) (int, map[string]any) {
	u.t.Helper()
	return u.Call("PUT", "/_matrix/client/v3/rooms/"+url.PathEscape(roomID)+"/state/"+typ+"/"+url.PathEscape(stateKey), content)
}

// Membership changes another user's membership: invite, kick, ban, unban.
func (u *User) Membership(roomID, action, target string) (int, map[string]any) {
	u.t.Helper()
	return u.Call("POST", "/_matrix/client/v3/rooms/"+url.PathEscape(roomID)+"/"+action, map[string]any{"user_id": target})
}

// Leave leaves (or rejects an invite to) a room.
func (u *User) Leave(roomID string) (int, map[string]any) {
	u.t.Helper()
	return u.Call("POST", "/_matrix/client/v3/rooms/"+url.PathEscape(roomID)+"/leave", map[string]any{})
}

// State returns the room's current state as type|state_key → event ID.
func (u *User) State(roomID string) (map[string]string, bool) {
	u.t.Helper()
	req, _ := http.NewRequest("GET", u.base()+"/_matrix/client/v3/rooms/"+url.PathEscape(roomID)+"/state", nil)
	req.Header.Set("Authorization", "Bearer "+u.Token)
	resp, err := u.Node.client.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, false
	}
	var evs []map[string]any
	json.NewDecoder(resp.Body).Decode(&evs)
	out := map[string]string{}
	for _, e := range evs {
		out[fmt.Sprint(e["type"], "|", e["state_key"])] = fmt.Sprint(e["event_id"])
	}
	return out, true
}

func (u *User) base() string {
	u.Node.mu.Lock()
	defer u.Node.mu.Unlock()
	return u.Node.base
}

// Messages pages the room's whole history backwards and returns the
// event IDs of messages (m.room.message), oldest first.
func (u *User) Messages(roomID string) []string {
	u.t.Helper()
	var ids []string
	from := ""
	for page := 0; page < 1000; page++ {
		path := "/_matrix/client/v3/rooms/" + url.PathEscape(roomID) + "/messages?dir=b&limit=100"
		if from != "" {
			path += "&from=" + url.QueryEscape(from)
		}
		b := u.Must("GET", path, nil)
		chunk, _ := b["chunk"].([]any)
		for _, c := range chunk {
			e := c.(map[string]any)
			if e["type"] == "m.room.message" {
				ids = append(ids, e["event_id"].(string))
			}
		}
		end, _ := b["end"].(string)
		if end == "" || len(chunk) == 0 {
			break
		}
		from = end
	}
	for i, j := 0, len(ids)-1; i < j; i, j = i+1, j-1 {
		ids[i], ids[j] = ids[j], ids[i]
	}
	return ids
}

// Eventually polls cond until it holds or the timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Sync runs one /sync (since may be "") with a short timeout and returns
// the body.
func (u *User) Sync(since string, timeoutMS int) map[string]any {
	u.t.Helper()
	path := "/_matrix/client/v3/sync?timeout=" + strconv.Itoa(timeoutMS)
	if since != "" {
		path += "&since=" + url.QueryEscape(since)
	}
	return u.Must("GET", path, nil)
}

// MembershipIn is the user's membership in a room as the user's own server
// sees it in the room state ("" when none).
func (u *User) MembershipIn(roomID, user string) string {
	u.t.Helper()
	st, b := u.Call("GET", "/_matrix/client/v3/rooms/"+url.PathEscape(roomID)+"/state/m.room.member/"+url.PathEscape(user), nil)
	if st != 200 {
		return ""
	}
	m, _ := b["membership"].(string)
	return m
}

package clientapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"hearth/services/clientapi"
	"hearth/services/matrix/signing"
	"hearth/services/roomserver"
	"hearth/services/storage"
)

// fakeAccounts maps access tokens to callers: a fake, not a mock.
type fakeAccounts map[string]clientapi.Caller

func (f fakeAccounts) AuthenticateToken(ctx context.Context, token string) (clientapi.Caller, error) {
	if c, ok := f[token]; ok {
		return c, nil
	}
	return clientapi.Caller{}, clientapi.Errf(http.StatusUnauthorized, "M_UNKNOWN_TOKEN", "Unknown token")
}

type env struct {
	t   *testing.T
	srv *httptest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, err := storage.Open(context.Background(), storage.Options{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	key, _ := signing.KeyFromSeed("ed25519:t", make([]byte, 32))
	rs, err := roomserver.New(context.Background(), db, roomserver.Options{ServerName: "hearth.test", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	api := clientapi.New(clientapi.Options{
		ServerName: "hearth.test", PublicBaseURL: "http://hearth.test", Rooms: rs, MaxBodyBytes: 64 << 10,
		Accounts: fakeAccounts{
			"alice-token": {UserID: "@alice:hearth.test", DeviceID: "A"},
			"bob-token":   {UserID: "@bob:hearth.test", DeviceID: "B"},
		},
	})
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv}
}

// do sends a request and decodes the JSON answer.
func (e *env) do(method, path, token string, body any) (int, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out); err != nil {
			e.t.Fatalf("%s %s: body is not JSON: %s", method, path, raw)
		}
	} else {
		out = map[string]any{"_raw": string(raw)}
	}
	return resp.StatusCode, out
}

func expectErr(t *testing.T, status int, body map[string]any, wantStatus int, wantCode string) {
	t.Helper()
	if status != wantStatus || body["errcode"] != wantCode {
		t.Errorf("got %d %v, want %d %s", status, body, wantStatus, wantCode)
	}
	if _, ok := body["error"].(string); !ok && status >= 400 {
		t.Errorf("error body without message: %v", body)
	}
}

func TestUnknownEndpointsAndMethods(t *testing.T) {
	e := newEnv(t)
	s, b := e.do("GET", "/_matrix/client/v3/nope", "alice-token", nil)
	expectErr(t, s, b, 404, "M_UNRECOGNIZED")
	s, b = e.do("DELETE", "/_matrix/client/v3/createRoom", "alice-token", nil)
	expectErr(t, s, b, 405, "M_UNRECOGNIZED")
	s, b = e.do("GET", "/_matrix/client/versions", "", nil)
	if s != 200 || !strings.Contains(fmt.Sprint(b["versions"]), "v1.5") {
		t.Errorf("versions: %d %v", s, b)
	}
	// CORS preflight never runs the endpoint and needs no token.
	req, _ := http.NewRequest("OPTIONS", e.srv.URL+"/_matrix/client/v3/createRoom", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("CORS preflight: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestTokensAndBadBodies(t *testing.T) {
	e := newEnv(t)
	s, b := e.do("POST", "/_matrix/client/v3/createRoom", "", map[string]any{})
	expectErr(t, s, b, 401, "M_MISSING_TOKEN")
	s, b = e.do("POST", "/_matrix/client/v3/createRoom", "wrong", map[string]any{})
	expectErr(t, s, b, 401, "M_UNKNOWN_TOKEN")
	s, b = e.do("POST", "/_matrix/client/v3/createRoom", "alice-token", "{not json")
	expectErr(t, s, b, 400, "M_NOT_JSON")
	s, b = e.do("POST", "/_matrix/client/v3/createRoom", "alice-token", `{"name": 5}`)
	expectErr(t, s, b, 400, "M_BAD_JSON")
	s, b = e.do("POST", "/_matrix/client/v3/createRoom", "alice-token", `{"name":"a","name":"b"}`)
	expectErr(t, s, b, 400, "M_BAD_JSON")
	s, b = e.do("POST", "/_matrix/client/v3/createRoom", "alice-token", `[1]`)
	expectErr(t, s, b, 400, "M_BAD_JSON")
	s, b = e.do("POST", "/_matrix/client/v3/createRoom", "alice-token", `{"topic":"`+strings.Repeat("x", 70000)+`"}`)
	expectErr(t, s, b, 413, "M_TOO_LARGE")
	s, b = e.do("POST", "/_matrix/client/v3/createRoom", "alice-token", map[string]any{"room_version": "3"})
	expectErr(t, s, b, 400, "M_UNSUPPORTED_ROOM_VERSION")
	s, b = e.do("POST", "/_matrix/client/v3/createRoom", "alice-token", map[string]any{"preset": "party"})
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
}

func TestRoomLifecycleOverHTTP(t *testing.T) {
	e := newEnv(t)
	s, b := e.do("POST", "/_matrix/client/v3/createRoom", "alice-token", map[string]any{"name": "Town hall", "preset": "private_chat"})
	if s != 200 {
		t.Fatalf("createRoom: %d %v", s, b)
	}
	room := b["room_id"].(string)
	base := "/_matrix/client/v3/rooms/" + room
	// Bob cannot join uninvited, nor read.
	s, b = e.do("POST", base+"/join", "bob-token", map[string]any{})
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	s, b = e.do("GET", base+"/messages", "bob-token", nil)
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	if s, b = e.do("POST", base+"/invite", "alice-token", map[string]any{"user_id": "@bob:hearth.test"}); s != 200 {
		t.Fatalf("invite: %d %v", s, b)
	}
	if s, b = e.do("POST", "/_matrix/client/r0/join/"+room, "bob-token", map[string]any{}); s != 200 || b["room_id"] != room {
		t.Fatalf("join over r0: %d %v", s, b)
	}
	// Send with a txn ID twice: one event.
	path := base + "/send/m.room.message/txn1"
	s1, b1 := e.do("PUT", path, "bob-token", map[string]any{"msgtype": "m.text", "body": "hello"})
	s2, b2 := e.do("PUT", path, "bob-token", map[string]any{"msgtype": "m.text", "body": "hello"})
	if s1 != 200 || s2 != 200 || b1["event_id"] != b2["event_id"] {
		t.Fatalf("idempotent send: %v %v", b1, b2)
	}
	for i := 0; i < 12; i++ {
		e.do("PUT", fmt.Sprintf("%s/send/m.room.message/m%d", base, i), "alice-token", map[string]any{"msgtype": "m.text", "body": fmt.Sprint(i)})
	}
	s, b = e.do("PUT", base+"/send/m.room.message/float", "alice-token", `{"body":"x","n":1.5}`)
	expectErr(t, s, b, 400, "M_BAD_JSON")
	// Walk the room back to its start with /messages.
	var types []string
	from := ""
	for pages := 0; pages < 20; pages++ {
		q := "?dir=b&limit=5"
		if from != "" {
			q += "&from=" + from
		}
		s, b = e.do("GET", base+"/messages"+q, "alice-token", nil)
		if s != 200 {
			t.Fatalf("messages: %d %v", s, b)
		}
		for _, ev := range b["chunk"].([]any) {
			types = append(types, ev.(map[string]any)["type"].(string))
		}
		end, ok := b["end"].(string)
		if !ok {
			break
		}
		from = end
	}
	if len(types) == 0 || types[len(types)-1] != "m.room.create" {
		t.Fatalf("did not reach the create event: %v", types)
	}
	msgs := 0
	for _, ty := range types {
		if ty == "m.room.message" {
			msgs++
		}
	}
	if msgs != 13 {
		t.Errorf("saw %d messages, want 13 (12 + one idempotent)", msgs)
	}
	// State: bob may not change the name; alice may.
	s, b = e.do("PUT", base+"/state/m.room.name", "bob-token", map[string]any{"name": "mine"})
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	if s, _ = e.do("PUT", base+"/state/m.room.name/", "alice-token", map[string]any{"name": "Renamed"}); s != 200 {
		t.Fatalf("rename: %d", s)
	}
	s, b = e.do("GET", base+"/state/m.room.name", "bob-token", nil)
	if s != 200 || b["name"] != "Renamed" {
		t.Errorf("state get: %d %v", s, b)
	}
	s, b = e.do("GET", base+"/joined_members", "bob-token", nil)
	if joined, _ := b["joined"].(map[string]any); len(joined) != 2 {
		t.Errorf("joined_members: %v", b)
	}
	// Redact bob's message as bob; fetch the event.
	s, b = e.do("PUT", base+"/redact/"+b1["event_id"].(string)+"/r1", "bob-token", map[string]any{"reason": "typo"})
	if s != 200 {
		t.Errorf("redact: %d %v", s, b)
	}
	s, b = e.do("GET", base+"/event/"+b1["event_id"].(string), "alice-token", nil)
	if s != 200 || b["event_id"] != b1["event_id"] {
		t.Errorf("event by ID: %d %v", s, b)
	}
	// Kick and ban need power: bob (0) cannot kick alice.
	s, b = e.do("POST", base+"/kick", "bob-token", map[string]any{"user_id": "@alice:hearth.test"})
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	if s, b = e.do("POST", base+"/ban", "alice-token", map[string]any{"user_id": "@bob:hearth.test", "reason": "test"}); s != 200 {
		t.Fatalf("ban: %d %v", s, b)
	}
	s, b = e.do("PUT", base+"/send/m.room.message/after-ban", "bob-token", map[string]any{"body": "x"})
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	if s, _ = e.do("POST", base+"/unban", "alice-token", map[string]any{"user_id": "@bob:hearth.test"}); s != 200 {
		t.Errorf("unban: %d", s)
	}
	s, b = e.do("GET", "/_matrix/client/v3/joined_rooms", "alice-token", nil)
	if rooms, _ := b["joined_rooms"].([]any); len(rooms) != 1 || rooms[0] != room {
		t.Errorf("joined_rooms: %v", b)
	}
}

package homeserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"hearth/config"
	"hearth/services/homeserver"
	"hearth/services/users"
)

type running struct {
	t      *testing.T
	base   string
	stop   func()
	client *http.Client
}

func start(t *testing.T, dataDir string) *running {
	t.Helper()
	cfg := config.Default()
	cfg.Server.Name = "hearth.test"
	cfg.Server.DataDir = dataDir
	cfg.Registration.Mode = config.RegistrationOpen
	cfg.Registration.AllowLegacySingleRequest = true
	cheap := users.TestingArgon2()
	hs, err := homeserver.Open(context.Background(), cfg, homeserver.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Argon2: &cheap,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ctx, ln) }()
	r := &running{t: t, base: "http://" + ln.Addr().String(), client: &http.Client{Timeout: 10 * time.Second}}
	stopped := false
	r.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil && err != http.ErrServerClosed {
			t.Errorf("serve: %v", err)
		}
		hs.Close()
	}
	t.Cleanup(r.stop)
	return r
}

func (r *running) call(method, path, token string, body any) (int, map[string]any) {
	r.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, r.base+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestRegisterLoginChatRestart(t *testing.T) {
	dir := t.TempDir()
	hs := start(t, dir)
	// UIA: the first request gets the flows and a session.
	s, b := hs.call("POST", "/_matrix/client/v3/register", "", map[string]any{"username": "alice", "password": "correct horse"})
	if s != 401 || b["session"] == nil {
		t.Fatalf("register without auth: %d %v", s, b)
	}
	s, b = hs.call("POST", "/_matrix/client/v3/register", "", map[string]any{"username": "alice", "password": "correct horse",
		"auth": map[string]any{"type": "m.login.dummy", "session": b["session"]}})
	if s != 200 || b["user_id"] != "@alice:hearth.test" || b["access_token"] == nil {
		t.Fatalf("register: %d %v", s, b)
	}
	alice := b["access_token"].(string)
	// Legacy single-request registration (matrix-nio style) and a taken name.
	s, b = hs.call("POST", "/_matrix/client/r0/register", "", map[string]any{"username": "bob", "password": "hunter2hunter2", "auth": map[string]any{"type": "m.login.dummy"}})
	if s != 200 {
		t.Fatalf("legacy register: %d %v", s, b)
	}
	s, b = hs.call("POST", "/_matrix/client/v3/register", "", map[string]any{"username": "bob", "password": "hunter2hunter2", "auth": map[string]any{"type": "m.login.dummy"}})
	if s != 400 || b["errcode"] != "M_USER_IN_USE" {
		t.Errorf("taken name: %d %v", s, b)
	}
	s, b = hs.call("POST", "/_matrix/client/v3/login", "", map[string]any{"type": "m.login.password", "identifier": map[string]any{"type": "m.id.user", "user": "bob"}, "password": "wrong"})
	if s != 403 || b["errcode"] != "M_FORBIDDEN" {
		t.Errorf("wrong password: %d %v", s, b)
	}
	s, b = hs.call("POST", "/_matrix/client/v3/login", "", map[string]any{"type": "m.login.password", "identifier": map[string]any{"type": "m.id.user", "user": "@bob:hearth.test"}, "password": "hunter2hunter2", "device_id": "BOBPHONE"})
	if s != 200 || b["device_id"] != "BOBPHONE" {
		t.Fatalf("login: %d %v", s, b)
	}
	bob := b["access_token"].(string)
	s, b = hs.call("GET", "/_matrix/client/v3/account/whoami", bob, nil)
	if s != 200 || b["user_id"] != "@bob:hearth.test" || b["device_id"] != "BOBPHONE" {
		t.Errorf("whoami: %d %v", s, b)
	}
	// Chat.
	s, b = hs.call("POST", "/_matrix/client/v3/createRoom", alice, map[string]any{"preset": "public_chat", "name": "Square"})
	if s != 200 {
		t.Fatalf("createRoom: %d %v", s, b)
	}
	room := b["room_id"].(string)
	if s, b = hs.call("POST", "/_matrix/client/v3/join/"+room, bob, map[string]any{}); s != 200 {
		t.Fatalf("join: %d %v", s, b)
	}
	s, b = hs.call("PUT", "/_matrix/client/v3/rooms/"+room+"/send/m.room.message/1", bob, map[string]any{"msgtype": "m.text", "body": "hi alice"})
	if s != 200 {
		t.Fatalf("send: %d %v", s, b)
	}
	eventID := b["event_id"]
	// Alice's initial sync has the room, its name and bob's message.
	s, b = hs.call("GET", "/_matrix/client/v3/sync", alice, nil)
	if s != 200 {
		t.Fatalf("sync: %d %v", s, b)
	}
	joined := b["rooms"].(map[string]any)["join"].(map[string]any)
	timeline := joined[room].(map[string]any)["timeline"].(map[string]any)["events"].([]any)
	if last := timeline[len(timeline)-1].(map[string]any); last["event_id"] != eventID {
		t.Fatalf("initial sync timeline ends with %v, want %v", last["event_id"], eventID)
	}
	since := b["next_batch"].(string)
	// A long poll returns when bob speaks.
	type result struct {
		status int
		body   map[string]any
	}
	got := make(chan result, 1)
	go func() {
		s, b := hs.call("GET", "/_matrix/client/v3/sync?timeout=5000&since="+since, alice, nil)
		got <- result{s, b}
	}()
	time.Sleep(50 * time.Millisecond)
	s, b = hs.call("PUT", "/_matrix/client/v3/rooms/"+room+"/send/m.room.message/2", bob, map[string]any{"msgtype": "m.text", "body": "are you there?"})
	if s != 200 {
		t.Fatalf("send: %d %v", s, b)
	}
	second := b["event_id"]
	res := <-got
	if res.status != 200 {
		t.Fatalf("long poll: %d %v", res.status, res.body)
	}
	events := res.body["rooms"].(map[string]any)["join"].(map[string]any)[room].(map[string]any)["timeline"].(map[string]any)["events"].([]any)
	if len(events) != 1 || events[0].(map[string]any)["event_id"] != second {
		t.Fatalf("long poll returned %v", events)
	}
	s, b = hs.call("GET", "/_matrix/client/v3/sync?since=garbage", alice, nil)
	if s != 400 || b["errcode"] != "M_INVALID_PARAM" {
		t.Errorf("bad since token: %d %v", s, b)
	}
	eventID = second
	hs.stop()

	// After a restart the tokens, the room and the message are still there.
	hs = start(t, dir)
	s, b = hs.call("GET", "/_matrix/client/v3/account/whoami", bob, nil)
	if s != 200 || b["user_id"] != "@bob:hearth.test" {
		t.Fatalf("token after restart: %d %v", s, b)
	}
	s, b = hs.call("GET", "/_matrix/client/v3/rooms/"+room+"/messages?dir=b&limit=1", alice, nil)
	chunk, _ := b["chunk"].([]any)
	if s != 200 || len(chunk) != 1 || chunk[0].(map[string]any)["event_id"] != eventID {
		t.Fatalf("messages after restart: %d %v", s, b)
	}
	// Logout kills the token.
	if s, _ = hs.call("POST", "/_matrix/client/v3/logout", bob, map[string]any{}); s != 200 {
		t.Fatalf("logout: %d", s)
	}
	s, b = hs.call("GET", "/_matrix/client/v3/account/whoami", bob, nil)
	if s != 401 || b["errcode"] != "M_UNKNOWN_TOKEN" {
		t.Errorf("after logout: %d %v", s, b)
	}
}

func TestRegistrationClosedByDefault(t *testing.T) {
	cfg := config.Default()
	cfg.Server.DataDir = t.TempDir()
	hs, err := homeserver.Open(context.Background(), cfg, homeserver.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer hs.Close()
	req, _ := http.NewRequest("POST", "/_matrix/client/v3/register", bytes.NewReader([]byte(`{"username":"x","password":"yyyyyyyyyy"}`)))
	rec := newRecorder()
	hs.Handler().ServeHTTP(rec, req)
	if rec.status != 403 || !bytes.Contains(rec.body.Bytes(), []byte("M_FORBIDDEN")) {
		t.Errorf("closed registration answered %d %s", rec.status, rec.body.String())
	}
}

type recorder struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder                    { return &recorder{h: http.Header{}} }
func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(s int)           { r.status = s }

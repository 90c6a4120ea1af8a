package homeserver_test

import (
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

// When every long-poll slot is taken, /sync answers at once instead of
// parking another request.
func TestLongPollsAreBounded(t *testing.T) {
	cfg := config.Default()
	cfg.Server.Name = "hearth.test"
	cfg.Server.DataDir = t.TempDir()
	cfg.Limits.MaxLongPolls = 1
	cheap := users.TestingArgon2()
	hs, err := homeserver.Open(context.Background(), cfg, homeserver.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Argon2: &cheap})
	if err != nil {
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { hs.Serve(ctx, ln); close(done) }()
	defer func() { cancel(); <-done; hs.Close() }()
	acct, _ := hs.Users.Register(context.Background(), "alice", "alice password", users.RegisterOpts{})
	s, _ := hs.Users.Login(context.Background(), acct.UserID, "", "", false)
	base := "http://" + ln.Addr().String() + "/_matrix/client/v3/sync"
	get := func(ctx context.Context, query string) (int, time.Duration) {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+query, nil)
		req.Header.Set("Authorization", "Bearer "+s.AccessToken)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, 0
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, time.Since(start)
	}
	req, _ := http.NewRequest("GET", base, nil)
	req.Header.Set("Authorization", "Bearer "+s.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var initial struct {
		NextBatch string `json:"next_batch"`
	}
	json.NewDecoder(resp.Body).Decode(&initial)
	resp.Body.Close()
	since := initial.NextBatch
	// The first long poll takes the only slot and waits (nothing happens).
	first := make(chan time.Duration, 1)
	firstCtx, stopFirst := context.WithCancel(context.Background())
	defer stopFirst()
	go func() { _, d := get(firstCtx, "?timeout=20000&since="+since); first <- d }()
	time.Sleep(200 * time.Millisecond)
	code, d := get(context.Background(), "?timeout=20000&since="+since)
	if code != 200 || d > 10*time.Second {
		t.Fatalf("second long poll: status %d after %v; it should answer at once", code, d)
	}
	select {
	case d := <-first:
		t.Fatalf("the first long poll returned early (%v): it should still be waiting", d)
	default:
	}
	stopFirst()
	<-first
}

package homeserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hearth/config"
	"hearth/services/homeserver"
	"hearth/services/users"
)

// benchServer starts a homeserver on loopback with users created directly
// through the users service (registration is not what is measured).
func benchServer(b *testing.B, nUsers int) (base string, tokens []string, ids []string) {
	b.Helper()
	cfg := config.Default()
	cfg.Server.Name = "bench.test"
	cfg.Server.DataDir = b.TempDir()
	cfg.Limits.PerUser.Disabled = true
	cfg.Limits.PerIP.Disabled = true
	cheap := users.TestingArgon2()
	hs, err := homeserver.Open(context.Background(), cfg, homeserver.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Argon2: &cheap})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { hs.Serve(ctx, ln); close(done) }()
	b.Cleanup(func() { cancel(); <-done; hs.Close() })
	for i := 0; i < nUsers; i++ {
		name := fmt.Sprintf("u%d", i)
		acct, err := hs.Users.Register(context.Background(), name, "benchmark password", users.RegisterOpts{})
		if err != nil {
			b.Fatal(err)
		}
		s, err := hs.Users.Login(context.Background(), acct.UserID, "", "", false)
		if err != nil {
			b.Fatal(err)
		}
		tokens = append(tokens, s.AccessToken)
		ids = append(ids, acct.UserID)
	}
	return "http://" + ln.Addr().String(), tokens, ids
}

func benchCall(b *testing.B, c *http.Client, method, url, token, body string) map[string]any {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != 200 {
		b.Fatalf("%s %s: %d %v", method, url, resp.StatusCode, out)
	}
	return out
}

// BenchmarkSendToSync measures, per message, the time from the start of the
// sender's PUT to the moment every long-polling recipient's /sync returned
// it, over real HTTP on loopback with durable commits. The bar: 100
// recipients ≤ 5 ms p50, ≤ 20 ms p99.
func BenchmarkSendToSync(b *testing.B) {
	for _, recipients := range []int{1, 100} {
		b.Run(fmt.Sprintf("recipients=%d", recipients), func(b *testing.B) {
			base, tokens, _ := benchServer(b, recipients+1)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: recipients + 10}}
			sender := tokens[0]
			room := benchCall(b, client, "POST", base+"/_matrix/client/v3/createRoom", sender, `{"preset":"public_chat"}`)["room_id"].(string)
			for _, tok := range tokens[1:] {
				benchCall(b, client, "POST", base+"/_matrix/client/v3/join/"+room, tok, `{}`)
			}
			// Every recipient long-polls in a loop and reports each event it sees.
			type seen struct {
				event string
				at    time.Time
			}
			seenc := make(chan seen, 1024)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for _, tok := range tokens[1:] {
				first := benchCall(b, client, "GET", base+"/_matrix/client/v3/sync?filter="+`{"room":{"timeline":{"limit":1}}}`, tok, "")
				since := first["next_batch"].(string)
				wg.Add(1)
				go func(tok, since string) {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						req, _ := http.NewRequest("GET", base+"/_matrix/client/v3/sync?timeout=2000&since="+since, nil)
						req.Header.Set("Authorization", "Bearer "+tok)
						resp, err := client.Do(req)
						if err != nil {
							return
						}
						var out struct {
							NextBatch string `json:"next_batch"`
							Rooms     struct {
								Join map[string]struct {
									Timeline struct {
										Events []struct {
											EventID string `json:"event_id"`
										} `json:"events"`
									} `json:"timeline"`
								} `json:"join"`
							} `json:"rooms"`
						}
						json.NewDecoder(resp.Body).Decode(&out)
						resp.Body.Close()
						now := time.Now()
						for _, ev := range out.Rooms.Join[room].Timeline.Events {
							seenc <- seen{ev.EventID, now}
						}
						if out.NextBatch != "" {
							since = out.NextBatch
						}
					}
				}(tok, since)
			}
			time.Sleep(100 * time.Millisecond) // let the polls park
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				ev := benchCall(b, client, "PUT", fmt.Sprintf("%s/_matrix/client/v3/rooms/%s/send/m.room.message/b%d", base, room, i), sender, `{"msgtype":"m.text","body":"ping"}`)["event_id"].(string)
				got := 0
				var last time.Time
				for got < recipients {
					s := <-seenc
					if s.event == ev {
						got++
						last = s.at
					}
				}
				lat = append(lat, last.Sub(start))
			}
			b.StopTimer()
			close(stop)
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			wg.Wait()
		})
	}
}

package clientapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"hearth/services/clientapi"
	"hearth/services/matrix/signing"
	"hearth/services/roomserver"
	"hearth/services/storage"
)

func TestRateLimitExceeded(t *testing.T) {
	db, err := storage.Open(context.Background(), storage.Options{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	key, _ := signing.KeyFromSeed("ed25519:t", make([]byte, 32))
	rs, _ := roomserver.New(context.Background(), db, roomserver.Options{ServerName: "hearth.test", Key: key})
	var nowSec atomic.Int64
	nowSec.Store(1_700_000_000)
	api := clientapi.New(clientapi.Options{
		ServerName: "hearth.test", Rooms: rs, Now: func() time.Time { return time.Unix(nowSec.Load(), 0) },
		Accounts: fakeAccounts{"alice-token": {UserID: "@alice:hearth.test", DeviceID: "A"}, "bob-token": {UserID: "@bob:hearth.test", DeviceID: "B"}},
		UserRate: 1, UserBurst: 3,
	})
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	e := &env{t: t, srv: srv}
	for i := 0; i < 3; i++ {
		if s, b := e.do("GET", "/_matrix/client/v3/joined_rooms", "alice-token", nil); s != 200 {
			t.Fatalf("request %d within the burst: %d %v", i, s, b)
		}
	}
	req, _ := http.NewRequest("GET", srv.URL+"/_matrix/client/v3/joined_rooms", nil)
	req.Header.Set("Authorization", "Bearer alice-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("over the limit: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	s, b := e.do("GET", "/_matrix/client/v3/joined_rooms", "alice-token", nil)
	if s != 429 || b["errcode"] != "M_LIMIT_EXCEEDED" || b["retry_after_ms"] == nil {
		t.Errorf("over the limit: %d %v", s, b)
	}
	// Limits are per user: bob is unaffected; time refills alice's bucket.
	if s, _ := e.do("GET", "/_matrix/client/v3/joined_rooms", "bob-token", nil); s != 200 {
		t.Errorf("bob limited by alice's requests: %d", s)
	}
	nowSec.Add(2)
	if s, _ := e.do("GET", "/_matrix/client/v3/joined_rooms", "alice-token", nil); s != 200 {
		t.Errorf("alice still limited after the bucket refilled: %d", s)
	}
}

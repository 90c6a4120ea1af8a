package federationtest

import (
	"encoding/json"
	"net/url"
	"strconv"
	"testing"
	"time"
)

func TestFederationTimestampToEvent(t *testing.T) {
	n := NewNetwork(t)
	hs1 := n.Add("hs1.test")
	evil := n.AddEvil("peer.test")
	alice := hs1.Register("alice")
	roomID := alice.CreateRoom(map[string]any{"preset": "public_chat"})
	first := alice.Send(roomID, "first")
	time.Sleep(5 * time.Millisecond)
	mid := time.Now().UnixMilli()
	time.Sleep(5 * time.Millisecond)
	second := alice.Send(roomID, "second")
	path := func(dir string) string {
		return "/_matrix/federation/v1/timestamp_to_event/" + url.PathEscape(roomID) + "?ts=" + strconv.FormatInt(mid, 10) + "&dir=" + dir
	}
	// A server with nobody in the room may not ask.
	if st, _ := evil.Do(hs1, "GET", path("f"), nil); st != 403 {
		t.Fatalf("outsider: %d", st)
	}
	evil.JoinRoom(hs1, roomID, "mallory")
	for dir, want := range map[string]string{"f": second, "b": first} {
		st, b := evil.Do(hs1, "GET", path(dir), nil)
		var got struct {
			EventID string `json:"event_id"`
		}
		json.Unmarshal(b, &got)
		if st != 200 || got.EventID != want {
			t.Fatalf("dir %s: %d %s, want %s", dir, st, b, want)
		}
	}
	if st, _ := evil.Do(hs1, "GET", "/_matrix/federation/v1/timestamp_to_event/"+url.PathEscape(roomID)+"?ts=x&dir=f", nil); st != 400 {
		t.Fatalf("bad ts: %d", st)
	}
}

package roomserver_test

import (
	"context"
	"errors"
	"testing"

	"hearth/services/matrix/cjson"
	"hearth/services/roomserver"
)

// A moderator who may tombstone but not change every copied state event is
// raised for the copy and restored afterwards; the old room keeps its power
// levels when the moderator may not change them.
func TestUpgradeRaisesAndRestoresUpgrader(t *testing.T) {
	h := open(t, t.TempDir())
	defer h.close()
	ctx := context.Background()
	override := cjson.MustFromGo(map[string]any{
		"users":  map[string]any{alice: 100, bob: 60},
		"events": map[string]any{"m.room.tombstone": 60, "m.room.server_acl": 100, "m.room.power_levels": 100},
	})
	room, err := h.rs.CreateRoom(ctx, roomserver.CreateRequest{Creator: alice, Version: "10", Preset: "public_chat",
		Name: "Mods", PowerLevelOverride: override, Invite: nil,
		InitialState: []roomserver.Event{{Type: "m.room.server_acl", StateKey: sk(""),
			Content: cjson.MustFromGo(map[string]any{"allow": []any{"*"}, "deny": []any{"evil.test"}, "allow_ip_literals": false})}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.rs.Send(ctx, room, roomserver.Event{Type: "m.room.member", StateKey: sk(bob), Sender: bob, Content: member("join")}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := h.rs.UpgradeRoom(ctx, roomserver.UpgradeRequest{RoomID: room, User: "@carol:hearth.test", NewVersion: "11"}); !errors.Is(err, roomserver.ErrForbidden) {
		t.Fatalf("non-member upgrade: %v", err)
	}
	nw, err := h.rs.UpgradeRoom(ctx, roomserver.UpgradeRequest{RoomID: room, User: bob, NewVersion: "11"})
	if err != nil {
		t.Fatal(err)
	}
	acl, err := h.rs.StateEvent(ctx, nw, "m.room.server_acl", "")
	if err != nil || acl.Content().Get("deny").Items()[0].StrOr("") != "evil.test" {
		t.Fatalf("server ACL not copied: %v %v", acl, err)
	}
	pl, err := h.rs.StateEvent(ctx, nw, "m.room.power_levels", "")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := pl.Content().Path("users", bob).IntValue(); n != 60 {
		t.Errorf("bob's level not restored: %s", cjson.Encode(pl.Content()))
	}
	if n, _ := pl.Content().Path("users", alice).IntValue(); n != 100 {
		t.Errorf("alice's level: %s", cjson.Encode(pl.Content()))
	}
	if _, err := h.rs.StateEvent(ctx, room, "m.room.tombstone", ""); err != nil {
		t.Errorf("no tombstone: %v", err)
	}
	oldPL, _ := h.rs.StateEvent(ctx, room, "m.room.power_levels", "")
	if n, _ := oldPL.Content().Get("events_default").IntValue(); n != 0 {
		t.Errorf("bob could not change the old power levels, yet they changed: %s", cjson.Encode(oldPL.Content()))
	}
}

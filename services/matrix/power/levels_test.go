package power_test

import (
	"errors"
	"testing"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
	"hearth/services/matrix/power"
	"hearth/services/matrix/signing"
)

func content(t *testing.T, s string) cjson.Value {
	t.Helper()
	v, err := cjson.Decode([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseDefaults(t *testing.T) {
	l, err := power.Parse(pdu.MustVersion("12"), content(t, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if l.Ban != 50 || l.Kick != 50 || l.Redact != 50 || l.Invite != 0 || l.StateDefault != 50 || l.EventsDefault != 0 || l.UsersDefault != 0 {
		t.Errorf("defaults = %+v", l)
	}
	if l.Notification("room") != 50 || l.Event("m.room.topic", true) != 50 || l.Event("m.room.message", false) != 0 {
		t.Error("derived defaults wrong")
	}
}

func TestParseValues(t *testing.T) {
	c := content(t, `{"ban":60,"kick":40,"redact":30,"invite":5,"state_default":70,"events_default":10,"users_default":1,
		"events":{"m.room.topic":20,"m.room.message":3},"notifications":{"room":99},"users":{"@a:x":100,"@b:x":-5}}`)
	l, err := power.Parse(pdu.MustVersion("10"), c)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want int64
	}{
		{"ban", l.Ban, 60}, {"kick", l.Kick, 40}, {"redact", l.Redact, 30}, {"invite", l.Invite, 5},
		{"topic", l.Event("m.room.topic", true), 20}, {"message", l.Event("m.room.message", false), 3},
		{"other state", l.Event("m.room.name", true), 70}, {"other msg", l.Event("m.sticker", false), 10},
		{"@a", l.User("@a:x"), 100}, {"@b", l.User("@b:x"), -5}, {"@c", l.User("@c:x"), 1},
		{"room notif", l.Notification("room"), 99},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}

func TestStringyLevels(t *testing.T) {
	c := content(t, `{"ban":" +050 ","events":{"m.room.topic":"-7"},"users":{"@a:x":"000100"},"kick":"0"}`)
	for _, ver := range []string{"6", "7", "8", "9"} {
		l, err := power.Parse(pdu.MustVersion(ver), c)
		if err != nil {
			t.Fatalf("v%s: %v", ver, err)
		}
		if l.Ban != 50 || l.Event("m.room.topic", true) != -7 || l.User("@a:x") != 100 || l.Kick != 0 {
			t.Errorf("v%s: %+v", ver, l)
		}
	}
	for _, ver := range []string{"10", "11", "12"} {
		if _, err := power.Parse(pdu.MustVersion(ver), c); !errors.Is(err, power.ErrInvalid) {
			t.Errorf("v%s accepted string levels: %v", ver, err)
		}
	}
	for _, bad := range []string{`{"ban":"5.0"}`, `{"ban":"1e3"}`, `{"ban":"abc"}`, `{"ban":""}`, `{"ban":"+-1"}`, `{"ban":true}`,
		`{"users":{"@a:x":null}}`, `{"events":[]}`, `{"ban":"99999999999999999999"}`} {
		if _, err := power.Parse(pdu.MustVersion("9"), content(t, bad)); !errors.Is(err, power.ErrInvalid) {
			t.Errorf("v9 accepted %s: %v", bad, err)
		}
	}
}

func buildState(t *testing.T, ver string, createContent string, pl string) pdu.StateMap {
	t.Helper()
	seed := make([]byte, 32)
	k, _ := signing.KeyFromSeed("ed25519:1", seed)
	v := pdu.MustVersion(ver)
	empty := ""
	create, err := v.Build(pdu.Proto{Type: "m.room.create", StateKey: &empty, Sender: "@creator:x", RoomID: "!r:x", Content: content(t, createContent)}, "x", k)
	if err != nil {
		t.Fatal(err)
	}
	st := pdu.StateMapOf(create)
	if pl != "" {
		p, err := v.Build(pdu.Proto{Type: "m.room.power_levels", StateKey: &empty, Sender: "@creator:x", RoomID: create.RoomID(), Content: content(t, pl)}, "x", k)
		if err != nil {
			t.Fatal(err)
		}
		st[p.Key()] = p
	}
	return st
}

func TestFromStateWithoutPowerLevels(t *testing.T) {
	// Before v11 the creator is content.creator; from v11 the sender; either way 100.
	st := buildState(t, "10", `{"creator":"@old:x"}`, "")
	l, _ := power.FromState(pdu.MustVersion("10"), st)
	if l.User("@old:x") != 100 || l.User("@creator:x") != 0 {
		t.Errorf("v10 creator levels: old=%d sender=%d", l.User("@old:x"), l.User("@creator:x"))
	}
	st = buildState(t, "11", `{}`, "")
	l, _ = power.FromState(pdu.MustVersion("11"), st)
	if l.User("@creator:x") != 100 || l.User("@other:x") != 0 {
		t.Error("v11 creator should have 100")
	}
}

func TestV12Creators(t *testing.T) {
	v := pdu.MustVersion("12")
	st := buildState(t, "12", `{"additional_creators":["@co:x"]}`, `{"users":{"@mod:x":100}}`)
	l, err := power.FromState(v, st)
	if err != nil {
		t.Fatal(err)
	}
	if l.User("@creator:x") != power.Infinite || l.User("@co:x") != power.Infinite {
		t.Error("v12 creators must have infinite power")
	}
	if l.User("@mod:x") != 100 || l.User("@mod:x") >= l.User("@co:x") {
		t.Error("a listed user must rank below the creators")
	}
	if got := power.Creators(v, st.Get("m.room.create", "")); len(got) != 2 || got[0] != "@creator:x" || got[1] != "@co:x" {
		t.Errorf("Creators = %v", got)
	}
	// Without a power-levels event creators are still infinite and nobody gets 100.
	st = buildState(t, "12", `{}`, "")
	l, _ = power.FromState(v, st)
	if l.User("@creator:x") != power.Infinite || len(l.Users) != 0 {
		t.Errorf("v12 without PL: %+v", l)
	}
}

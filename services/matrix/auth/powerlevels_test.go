package auth

import (
	"testing"

	"hearth/services/matrix/pdu"
)

// basePL is the power levels the power-level cases start from: bob (50) may
// send m.room.power_levels; dave has 50, eve 10; some levels above bob's.
func basePL(r *room) obj {
	return obj{
		"users":         r.users(obj{bob: 50, dave: 50, eve: 10}),
		"events":        obj{"m.room.power_levels": 50, "m.room.topic": 70},
		"notifications": obj{"room": 70},
		"ban":           60,
		"redact":        70,
	}
}

// changePL applies basePL, then has sender send basePL edited by change.
func changePL(sender string, change func(r *room, c obj)) func(r *room) *pdu.Event {
	return func(r *room) *pdu.Event {
		r.setPL(basePL(r))
		c := basePL(r)
		change(r, c)
		return r.pl(sender, c)
	}
}

func set(key string, val any) func(r *room, c obj) {
	return func(r *room, c obj) { c[key] = val }
}

func setIn(key, sub string, val any) func(r *room, c obj) {
	return func(r *room, c obj) { c[key].(obj)[sub] = val }
}

func del(key string) func(r *room, c obj) {
	return func(r *room, c obj) { delete(c, key) }
}

func delIn(key, sub string) func(r *room, c obj) {
	return func(r *room, c obj) { delete(c[key].(obj), sub) }
}

const maxLevel = 1<<53 - 1

func TestPowerLevelValues(t *testing.T) {
	runCases(t, []tc{
		{name: "10.1 accept: integers", checkAll: true, setup: changePL(alice, set("kick", 40))},
		{name: "10.1 string level", wantFor: byVersion(10, "", "10.1"), setup: changePL(alice, set("kick", " +040 "))},
		{name: "10.1 reject: string that is not an integer", want: "10.1", setup: changePL(alice, set("kick", "forty"))},
		{name: "10.1 reject: boolean", want: "10.1", setup: changePL(alice, set("invite", true))},
		{name: "10.1 reject: null", want: "10.1", setup: changePL(alice, set("users_default", nil))},
		{name: "10.2 string event level", wantFor: byVersion(10, "", "10.2"),
			setup: changePL(alice, setIn("events", "m.room.topic", "70"))},
		{name: "10.2 string notification level", wantFor: byVersion(10, "", "10.2"),
			setup: changePL(alice, setIn("notifications", "room", "70"))},
		{name: "10.2 reject: events not an object", want: "10.2", setup: changePL(alice, set("events", []any{}))},
		{name: "10.2 reject: notifications not an object", want: "10.2", setup: changePL(alice, set("notifications", "x"))},
		{name: "10.2 reject: event level null", want: "10.2", setup: changePL(alice, setIn("events", "m.room.name", nil))},
		{name: "10.3 reject: users key not a user ID", want: "10.3", setup: changePL(alice, setIn("users", "carol", 10))},
		{name: "10.3 reject: users key without server", want: "10.3", setup: changePL(alice, setIn("users", "@carol", 10))},
		{name: "10.3 string user level", wantFor: byVersion(10, "", "10.3"), setup: changePL(alice, setIn("users", bob, "50"))},
		{name: "10.3 reject: user level object", want: "10.3", setup: changePL(alice, setIn("users", bob, obj{}))},
		{name: "10.3 reject: users not an object", want: "10.3", setup: changePL(alice, set("users", []any{bob}))},
		{name: "10.3 accept: no users (all lower than alice)", setup: changePL(alice, del("users"))},
		{name: "10.4 creator in users", wantFor: byVersion(12, "", "10.4"), setup: changePL(alice, setIn("users", alice, 100))},
		{name: "10.4 additional creator in users", wantFor: byVersion(12, "", "10.4"),
			opts:  roomOpts{createExtra: obj{"additional_creators": []any{carol}}},
			setup: changePL(alice, setIn("users", carol, 10))},
		{name: "10.4 accept: creators absent", opts: roomOpts{createExtra: obj{"additional_creators": []any{carol}}},
			setup: changePL(alice, setIn("users", dave, 10))},
	})
}

func TestPowerLevelChanges(t *testing.T) {
	runCases(t, []tc{
		{name: "10.5 accept: first power levels may grant anything", opts: roomOpts{noPL: true},
			setup: func(r *room) *pdu.Event {
				return r.pl(alice, obj{"users": r.users(obj{bob: 1000}), "ban": 1000})
			}},
		{name: "10.5 same grant with previous power levels", wantFor: byVersion(12, "10.10.1", ""),
			setup: changePL(alice, setIn("users", bob, 1000))},
		{name: "10.6 accept: add a level at own level", setup: changePL(bob, set("kick", 50))},
		{name: "10.6 accept: lower a level", setup: changePL(bob, set("state_default", 10))},
		{name: "10.6.2 reject: add a level above own", want: "10.6.2", setup: changePL(bob, set("kick", 51))},
		{name: "10.6.2 reject: raise a level above own", want: "10.6.2", setup: changePL(bob, set("users_default", 51))},
		{name: "10.6.1 reject: change a level above own", want: "10.6.1", setup: changePL(bob, set("ban", 40))},
		{name: "10.6.1 reject: remove a level above own", want: "10.6.1", setup: changePL(bob, del("redact"))},
		{name: "10.6 accept: string to equal integer is no change", to: 9,
			setup: func(r *room) *pdu.Event {
				c := basePL(r)
				c["ban"] = "060"
				r.setPL(c)
				c = basePL(r)
				return r.pl(bob, c)
			}},
		{name: "10.7.1 reject: change an event level above own", want: "10.7.1",
			setup: changePL(bob, setIn("events", "m.room.topic", 40))},
		{name: "10.7.1 reject: remove an event level above own", want: "10.7.1",
			setup: changePL(bob, delIn("events", "m.room.topic"))},
		{name: "10.7.1 reject: remove a notification level above own", want: "10.7.1",
			setup: changePL(bob, delIn("notifications", "room"))},
		{name: "10.7 accept: change an event level at own", setup: changePL(bob, setIn("events", "m.room.power_levels", 40))},
		{name: "10.8.1 reject: add an event level above own", want: "10.8.1",
			setup: changePL(bob, setIn("events", "m.room.name", 51))},
		{name: "10.8.1 reject: add a notification level above own", want: "10.8.1",
			setup: changePL(bob, setIn("notifications", "custom", 51))},
		{name: "10.8 accept: add an event level at own", setup: changePL(bob, setIn("events", "m.room.name", 50))},
		{name: "10.9.1 reject: change an equal user", want: "10.9.1", setup: changePL(bob, setIn("users", dave, 10))},
		{name: "10.9.1 reject: remove an equal user", want: "10.9.1", setup: changePL(bob, delIn("users", dave))},
		{name: "10.9 remove the creator's entry", wantFor: byVersion(12, "10.9.1", ""), setup: changePL(bob, delIn("users", alice))},
		{name: "10.9 accept: lower own entry", setup: changePL(bob, setIn("users", bob, 10))},
		{name: "10.9 accept: change a lower user", setup: changePL(bob, setIn("users", eve, 20))},
		{name: "10.9 accept: remove a lower user", setup: changePL(bob, delIn("users", eve))},
		{name: "10.10.1 reject: raise a user above own", want: "10.10.1", setup: changePL(bob, setIn("users", eve, 51))},
		{name: "10.10.1 reject: add a user above own", want: "10.10.1", setup: changePL(bob, setIn("users", carol, 51))},
		{name: "10.10.1 reject: raise own entry", want: "10.10.1", setup: changePL(bob, setIn("users", bob, 51))},
		{name: "10.10 accept: raise a user to own", setup: changePL(bob, setIn("users", eve, 50))},
		{name: "10.10 creator grants above 100", wantFor: byVersion(12, "10.10.1", ""), setup: changePL(alice, setIn("users", bob, 101))},
		{name: "10.6 creator sets the maximum level", wantFor: byVersion(12, "10.6.2", ""), setup: changePL(alice, set("ban", maxLevel))},
		{name: "10.11 accept: unchanged", setup: changePL(bob, func(*room, obj) {})},
	})
}

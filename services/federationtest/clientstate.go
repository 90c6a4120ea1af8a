package federationtest

import "fmt"

// ClientView follows one room's state the way a client does from /sync:
// an initial sync, then incremental ones, applying each response's state
// section and then the state events of its timeline, in order.
type ClientView struct {
	u      *User
	roomID string
	since  string
	State  map[string]string // type|state_key → event ID
}

// Follow starts a view with an initial sync.
func (u *User) Follow(roomID string) *ClientView {
	v := &ClientView{u: u, roomID: roomID, State: map[string]string{}}
	v.apply(u.Sync("", 0))
	return v
}

// CatchUp runs incremental syncs until one brings nothing for the room.
func (v *ClientView) CatchUp() {
	for i := 0; i < 50; i++ {
		if !v.apply(v.u.Sync(v.since, 0)) {
			return
		}
	}
}

func (v *ClientView) apply(b map[string]any) bool {
	v.since, _ = b["next_batch"].(string)
	rooms, _ := b["rooms"].(map[string]any)
	join, _ := rooms["join"].(map[string]any)
	r, ok := join[v.roomID].(map[string]any)
	if !ok {
		return false
	}
	put := func(list any) {
		evs, _ := list.([]any)
		for _, e := range evs {
			ev := e.(map[string]any)
			if sk, ok := ev["state_key"].(string); ok {
				v.State[fmt.Sprint(ev["type"], "|", sk)] = fmt.Sprint(ev["event_id"])
			}
		}
	}
	st, _ := r["state"].(map[string]any)
	put(st["events"])
	tl, _ := r["timeline"].(map[string]any)
	put(tl["events"])
	return true
}

package stateres

import (
	"hearth/services/matrix/pdu"
	"hearth/services/matrix/power"
)

// isPowerEvent: a state event of type m.room.power_levels or
// m.room.join_rules, or an m.room.member state event with membership leave or
// ban whose sender is not its state_key (a kick, a ban, an unban, or a
// retracted invite).
func isPowerEvent(ev *pdu.Event) bool {
	sk, ok := ev.StateKey()
	if !ok {
		return false
	}
	switch ev.Type() {
	case "m.room.power_levels", "m.room.join_rules":
		return true
	case "m.room.member":
		m := ev.Membership()
		return (m == "leave" || m == "ban") && ev.Sender() != sk
	}
	return false
}

// powerSet is step 1's set X: the power events of the full conflicted set and
// every event of their auth chains that is in the full conflicted set.
func (r *resolver) powerSet(full map[string]bool) (map[string]bool, error) {
	x := make(map[string]bool)
	var start []string
	for id := range full {
		if isPowerEvent(r.events[id]) {
			x[id] = true
			start = append(start, id)
		}
	}
	// One walk from all of them at once: the union of their auth chains.
	seen := make(map[string]bool, len(start))
	var chain []string
	for _, id := range start {
		ev := r.events[id]
		for i, n := 0, r.numAuth(ev); i < n; i++ {
			chain = append(chain, r.authAt(ev, i))
		}
	}
	if err := r.walk(chain, seen, nil); err != nil {
		return nil, err
	}
	for id := range seen {
		if full[id] {
			x[id] = true
		}
	}
	return x, nil
}

// levelsKey identifies the power levels an event's auth events give.
type levelsKey struct{ create, pl string }

// authState is the state formed by an event's create and power-levels auth
// events, all power.FromState reads.
type authState struct{ create, pl *pdu.Event }

func (s authState) Get(typ, stateKey string) *pdu.Event {
	switch {
	case stateKey != "":
		return nil
	case typ == "m.room.create":
		return s.create
	case typ == "m.room.power_levels":
		return s.pl
	}
	return nil
}

// senderPower is the power level of ev's sender according to ev's own auth
// events (its power-levels event, or the room's defaults and creator(s)
// without one). Power-levels content that cannot be read (which the auth
// rules would have refused) gives every user the users_default of 0, v12
// creators still being infinite.
func (r *resolver) senderPower(ev *pdu.Event) (int64, error) {
	var st authState
	for i, n := 0, r.numAuth(ev); i < n; i++ {
		a, err := r.load(r.authAt(ev, i))
		if err != nil {
			return 0, err
		}
		switch {
		case a.StateKeyIs("m.room.create", ""):
			st.create = a
		case a.StateKeyIs("m.room.power_levels", ""):
			st.pl = a
		}
	}
	var key levelsKey
	if st.create != nil {
		key.create = st.create.ID()
	}
	if st.pl != nil {
		key.pl = st.pl.ID()
	}
	l, ok := r.levels[key]
	if !ok {
		var err error
		if l, err = power.FromState(r.v, st); err != nil {
			l = power.Levels{}
			if r.v.PrivilegedCreators && st.create != nil {
				l.Creators = make(map[string]bool)
				for _, c := range power.Creators(r.v, st.create) {
					l.Creators[c] = true
				}
			}
		}
		r.levels[key] = l
	}
	return l.User(ev.Sender()), nil
}

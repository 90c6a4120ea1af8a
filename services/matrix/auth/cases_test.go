package auth

import (
	"errors"
	"strconv"
	"testing"

	"hearth/services/matrix/pdu"
)

// tc is one case of a rule table. It runs in every supported room version
// from..to (0 = unbounded); want is the v12 number of the rule expected to
// reject the event ("" = allowed), unless wantFor gives a per-version answer.
type tc struct {
	name     string
	from, to int
	opts     roomOpts
	want     string
	wantFor  func(v *pdu.RoomVersion) string
	setup    func(r *room) *pdu.Event
	checkAll bool // also run CheckAuthEvents with the event's auth events
	// check, if set, replaces Allowed(ev, r.state).
	check func(r *room, ev *pdu.Event) error
}

// runCases runs a table in subtests per room version, each case in a fresh
// standard room.
func runCases(t *testing.T, cases []tc) {
	t.Helper()
	for _, id := range pdu.SupportedVersions() {
		v := pdu.MustVersion(id)
		n, _ := strconv.Atoi(id)
		t.Run("v"+id, func(t *testing.T) {
			ran := 0
			for _, c := range cases {
				if (c.from != 0 && n < c.from) || (c.to != 0 && n > c.to) {
					continue
				}
				ran++
				t.Run(c.name, func(t *testing.T) {
					r := newRoom(t, v, c.opts)
					ev := c.setup(r)
					want := c.want
					if c.wantFor != nil {
						want = c.wantFor(v)
					}
					check := func(r *room, ev *pdu.Event) error { return Allowed(ev, r.state) }
					if c.check != nil {
						check = c.check
					}
					expect(t, v, check(r, ev), want)
					if c.checkAll {
						if err := CheckAuthEvents(ev, r.authEventsOf(ev)); err != nil {
							t.Errorf("CheckAuthEvents: %v", err)
						}
					}
				})
			}
			if ran == 0 {
				t.Skip("no case applies to this room version")
			}
		})
	}
}

// expect compares an auth result with the wanted v12 rule number ("" =
// allowed), converted to v's numbering.
func expect(t *testing.T, v *pdu.RoomVersion, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("want allowed, got %v", err)
		}
		return
	}
	var ae *Error
	if !errors.As(err, &ae) {
		t.Fatalf("want rejection by rule %s, got %v", ruleNumber(v, want), err)
	}
	if w := ruleNumber(v, want); ae.Rule != w {
		t.Fatalf("want rejection by rule %s, got %v", w, err)
	}
}

// authEventsOf returns the events named in ev's auth_events among those
// applied to the room.
func (r *room) authEventsOf(ev *pdu.Event) []*pdu.Event {
	var out []*pdu.Event
	for _, id := range ev.AuthEvents() {
		if e := r.all[id]; e != nil {
			out = append(out, e)
		}
	}
	return out
}

// byVersion answers per room version: before is the answer below version n,
// after from n on.
func byVersion(n int, before, after string) func(v *pdu.RoomVersion) string {
	return func(v *pdu.RoomVersion) string {
		if x, _ := strconv.Atoi(v.ID); x < n {
			return before
		}
		return after
	}
}

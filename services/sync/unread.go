package sync

import (
	"bytes"
	"context"
	"errors"
	gosync "sync"

	"hearth/services/matrix/pdu"
	"hearth/services/matrix/power"
	"hearth/services/matrix/push"
	"hearth/services/roomserver"
)

// Unread notification counts
//
// A joined room in a response carries unread_notifications: the events
// after the user's read marker that the user's push rules make notify
// (notification_count) and highlight (highlight_count). They are computed
// when the room is built, from the same timeline position as the response,
// so the count for a new event is in the same response as the event
// (push.md "Receiving notifications").
//
//   - The read marker is the later (in the timeline) of the user's m.read
//     and m.read.private receipts, unthreaded or on the "main" thread. A
//     receipt for an event this server does not have is ignored. With no
//     receipt (or one from before the user's current join), counting starts
//     after the user's join event.
//   - Only the newest maxUnreadScan events of the room are looked at. The
//     counts therefore never exceed maxUnreadScan: a count of 100 means
//     "100 or more", which clients show as "99+" anyway.
//   - The user's own events never count (push.Evaluate ensures it).
//   - Rules are evaluated against the current state of the room (display
//     name, member count, power levels), not the state at each event.
//   - unread_thread_notifications is not produced: threaded receipts for a
//     thread root are ignored, and every event after the main read marker
//     counts in unread_notifications.
//   - A room is only sent (and its counts with it) when something in it
//     changed; a new receipt of the user is such a change (it arrives as an
//     ephemeral event), so a receipt that clears the counts is seen at once.

// maxUnreadScan is how many of a room's newest events are read to count
// its unread notifications.
const maxUnreadScan = 100

// UnreadSource gives what the counts need beyond the room server. Both
// functions are required for counts to be computed; without them every
// count is 0.
type UnreadSource struct {
	// ReadReceipts returns the event IDs of the user's read receipts in a
	// room that mark the main timeline read (m.read and m.read.private,
	// unthreaded or thread "main"), in any order.
	ReadReceipts func(ctx context.Context, roomID, userID string) ([]string, error)
	// PushRules returns the user's stored m.push_rules account data, nil
	// when the user has none (the predefined rules then apply).
	PushRules func(ctx context.Context, userID string) ([]byte, error)
}

// ruleCache keeps the last parsed ruleset of each user with the stored
// bytes it came from, so an unchanged ruleset is not parsed again. It is
// emptied when it reaches maxRuleCache users.
type ruleCache struct {
	mu  gosync.Mutex
	m   map[string]cachedRules
	gen uint64 // last generation handed out
}

// cachedRules is a parsed ruleset; gen changes whenever a user's ruleset is
// parsed anew, so counts computed under older rules can be told apart.
type cachedRules struct {
	raw   []byte
	rules push.Ruleset
	gen   uint64
}

const maxRuleCache = 4096

func (c *ruleCache) get(user string, raw []byte) (push.Ruleset, uint64, error) {
	c.mu.Lock()
	e, ok := c.m[user]
	c.mu.Unlock()
	if ok && bytes.Equal(e.raw, raw) {
		return e.rules, e.gen, nil
	}
	rs, err := push.EffectiveRuleset(user, raw)
	if err != nil {
		return push.Ruleset{}, 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxRuleCache {
		c.m = map[string]cachedRules{}
	}
	c.gen++
	c.m[user] = cachedRules{raw: bytes.Clone(raw), rules: rs, gen: c.gen}
	return rs, c.gen, nil
}

// unreadCache remembers, per user and room, the counts as of a position,
// with the read marker and ruleset they were computed under. A later sync
// with the same marker and rules only evaluates the events after that
// position, so a long-polling user costs one evaluation per new event
// instead of a scan of the room's newest events on every sync. It is
// emptied when it reaches maxUnreadCache entries (forgetting only costs a
// rescan).
type unreadCache struct {
	mu gosync.Mutex
	m  map[unreadKey]unreadEntry
}

type unreadKey struct{ user, room string }

type unreadEntry struct {
	floor, upTo uint64
	gen         uint64
	counts      UnreadNotifications
}

const maxUnreadCache = 100_000

func (c *unreadCache) get(user, room string) (unreadEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[unreadKey{user, room}]
	return e, ok
}

func (c *unreadCache) put(user, room string, e unreadEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxUnreadCache {
		c.m = map[unreadKey]unreadEntry{}
	}
	c.m[unreadKey{user, room}] = e
}

// pushRules returns the ruleset of the syncing user, read once per
// request. ok is false when counts cannot be computed.
func (b *build) pushRules() (push.Ruleset, bool) {
	if b.rulesDone {
		return b.rules, b.rulesOK
	}
	b.rulesDone = true
	src := b.s.opts.Unread
	if src.PushRules == nil || src.ReadReceipts == nil {
		return push.Ruleset{}, false
	}
	raw, err := src.PushRules(b.ctx, b.req.UserID)
	if err != nil {
		b.s.log.Error("sync: push rules", "user", b.req.UserID, "err", err)
		return push.Ruleset{}, false
	}
	rs, gen, err := b.s.rules.get(b.req.UserID, raw)
	if err != nil {
		// Damaged stored rules: fall back to the predefined ones.
		b.s.log.Warn("sync: stored push rules unreadable, using the defaults", "user", b.req.UserID, "err", err)
		if rs, gen, err = b.s.rules.get(b.req.UserID, nil); err != nil {
			return push.Ruleset{}, false
		}
	}
	b.rules, b.rulesGen, b.rulesOK = rs, gen, true
	return rs, true
}

// unread counts a joined room's unread notifications as of b.upTo. joinPos
// is the position of the user's join event.
func (b *build) unread(roomID string, joinPos uint64, cur pdu.StateMap) (out UnreadNotifications, err error) {
	rules, ok := b.pushRules()
	if !ok {
		return out, nil
	}
	floor := joinPos
	ids, err := b.s.opts.Unread.ReadReceipts(b.ctx, roomID, b.req.UserID)
	if err != nil {
		return out, err
	}
	for _, id := range ids {
		_, pos, err := b.s.rs.EventByID(b.ctx, id)
		if errors.Is(err, roomserver.ErrNotFound) {
			continue
		}
		if err != nil {
			return out, err
		}
		floor = max(floor, pos)
	}
	if floor >= b.upTo {
		return out, nil
	}
	// Start from the counts of an earlier sync under the same read marker
	// and rules, and evaluate only what came after it.
	stop := floor
	if e, ok := b.s.unreads.get(b.req.UserID, roomID); ok && e.floor == floor && e.gen == b.rulesGen && e.upTo <= b.upTo {
		out, stop = e.counts, e.upTo
	}
	defer func() {
		if err != nil {
			return
		}
		out.NotificationCount = min(out.NotificationCount, maxUnreadScan)
		out.HighlightCount = min(out.HighlightCount, out.NotificationCount)
		b.s.unreads.put(b.req.UserID, roomID, unreadEntry{floor: floor, upTo: b.upTo, gen: b.rulesGen, counts: out})
	}()
	if stop >= b.upTo {
		return out, nil
	}

	// The context of the rules, from the current state.
	c := push.Context{UserID: b.req.UserID, RoomID: roomID}
	if me := cur.Get("m.room.member", b.req.UserID); me != nil {
		c.DisplayName = me.Content().Get("displayname").StrOr("")
	}
	for k, ev := range cur {
		if k.Type == "m.room.member" && ev.Membership() == "join" {
			c.RoomMemberCount++
		}
	}
	var levels power.Levels
	haveLevels := false
	if create := cur.Get("m.room.create", ""); create != nil {
		if l, err := power.FromState(create.Version(), cur); err == nil {
			levels, haveLevels = l, true
			c.NotificationPowerLevels = l.Notifications
		}
	}

	// Positions are global, so the room has at most upTo-stop events in
	// (stop, upTo]: never load more than that (usually one new event).
	from, left := b.upTo+1, min(maxUnreadScan, int(min(b.upTo-stop, maxUnreadScan)))
	for left > 0 {
		want := min(left, 50)
		evs, err := b.s.rs.Timeline(b.ctx, roomID, from, roomserver.Backward, want)
		if err != nil {
			return out, err
		}
		for _, e := range evs {
			if e.Position <= stop {
				return out, nil
			}
			left--
			ev := e.Event
			if ev.Sender() == b.req.UserID {
				continue
			}
			c.SenderPowerLevel = 0
			if haveLevels {
				c.SenderPowerLevel = levels.User(ev.Sender())
			}
			if res := rules.Evaluate(ev.Object(), c); res.Notify {
				out.NotificationCount++
				if res.Highlight {
					out.HighlightCount++
				}
			}
		}
		if len(evs) < want {
			break
		}
		from = evs[len(evs)-1].Position
	}
	return out, nil
}

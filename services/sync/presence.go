package sync

import (
	"context"
	"slices"

	"hearth/services/matrix/cjson"
)

// Presence in /sync
//
// The top-level presence section carries m.presence events of the users
// who share a joined room with the syncing user (and of the user), for
// presence changes after the since token's Presence position. At most
// maxPresenceScan changes are read per response; when there were more, the
// response is returned at once (even if empty) with a next_batch that
// continues after the last change read. With no PresenceSource (presence
// disabled) the section is always empty and set_presence is ignored.

// maxPresenceScan bounds the presence changes one response reads.
const maxPresenceScan = 500

// PresenceSource serves the presence stream (the presence service).
type PresenceSource interface {
	// SyncPresence records that user is syncing with set_presence ("",
	// "online", "offline" or "unavailable").
	SyncPresence(user, setPresence string)
	// PresenceSince returns the m.presence events ({type, sender,
	// content}) of at most limit users whose presence changed after from,
	// oldest change first, the position the answer is complete up to, and
	// whether more changes follow it.
	PresenceSince(from uint64, limit int) (events []cjson.Value, pos uint64, more bool)
}

// presence fills the presence section; joined are the rooms the user is
// joined to. It returns the next presence position and whether more
// changes are waiting.
func (b *build) presence(joined map[string]bool) (uint64, bool) {
	src := b.s.opts.Presence
	if src == nil {
		return b.since.Presence, false
	}
	evs, pos, more := src.PresenceSince(b.since.Presence, maxPresenceScan)
	f := &b.f.Presence
	shares := map[string]bool{b.req.UserID: true}
	for _, ev := range evs {
		if f.Limit > 0 && len(b.resp.Presence.Events) >= f.Limit {
			break
		}
		sender := ev.Get("sender").StrOr("")
		if !f.Match("m.presence", sender) {
			continue
		}
		ok, seen := shares[sender]
		if !seen {
			ok = b.sharesRoom(sender, joined)
			shares[sender] = ok
		}
		if ok {
			b.resp.Presence.Events = append(b.resp.Presence.Events, ev)
		}
	}
	// Not max(pos, since): a since ahead of the stream (the store restarted)
	// must come back down to it.
	return pos, more
}

// sharesRoom reports whether other is joined to one of the rooms.
func (b *build) sharesRoom(other string, joined map[string]bool) bool {
	if len(joined) == 0 {
		return false
	}
	rooms, err := b.s.rs.RoomsOf(b.ctx, other)
	if err != nil {
		b.s.log.Error("sync: rooms of a presence sender", "user", other, "err", err)
		return false
	}
	for id, m := range rooms {
		if m == "join" && joined[id] {
			return true
		}
	}
	return false
}

// PresenceChanged wakes the long polls of everyone who shares a joined
// room with user (and of user): their presence section has news. The
// presence service calls it after a change.
func (s *Server) PresenceChanged(user string) {
	rooms, err := s.rs.RoomsOf(context.Background(), user)
	if err == nil {
		ids := make([]string, 0, len(rooms))
		for id, m := range rooms {
			if m == "join" {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		for _, id := range ids {
			s.n.Wake(id)
		}
	}
	s.WakeUser(user)
}

package federation

import (
	"context"
	"encoding/json"
	"time"

	"hearth/services/matrix/pdu"
)

// edu is one entry of a transaction's "edus".
type edu struct {
	Type    string          `json:"edu_type"`
	Content json.RawMessage `json:"content"`
}

// typingTimeout is how long a remote user's typing lasts without news.
const typingTimeout = 30 * time.Second

// processEDUs hands ephemeral data to the services that keep it. Each EDU
// is checked: its users belong to the origin, are joined to the room, and
// the room's ACL lets the origin in. Bad EDUs are dropped quietly.
func (s *Server) processEDUs(ctx context.Context, origin string, raws []json.RawMessage) {
	for _, raw := range raws {
		var e edu
		if err := json.Unmarshal(raw, &e); err != nil {
			continue
		}
		switch e.Type {
		case "m.typing":
			s.typingEDU(ctx, origin, e.Content)
		case "m.receipt":
			s.receiptEDU(ctx, origin, e.Content)
		case "m.presence":
			s.presenceEDU(origin, e.Content)
		default:
			// m.device_list_update, m.signing_key_update and
			// m.direct_to_device wait for the end-to-end encryption service.
			s.log.Debug("EDU ignored", "origin", origin, "type", e.Type)
		}
	}
}

// joinedFrom checks that user belongs to origin and is joined to roomID,
// and that the room lets origin in.
func (s *Server) joinedFrom(ctx context.Context, origin, roomID, user string) bool {
	if pdu.Domain(user) != origin || s.checkACL(ctx, roomID, origin) != nil {
		return false
	}
	m, err := s.o.Rooms.Membership(ctx, roomID, user)
	return err == nil && m == "join"
}

func (s *Server) typingEDU(ctx context.Context, origin string, content json.RawMessage) {
	var c struct {
		RoomID string `json:"room_id"`
		UserID string `json:"user_id"`
		Typing bool   `json:"typing"`
	}
	if s.o.EDUs == nil || json.Unmarshal(content, &c) != nil || !s.joinedFrom(ctx, origin, c.RoomID, c.UserID) {
		return
	}
	s.o.EDUs.SetTyping(c.RoomID, c.UserID, c.Typing, typingTimeout)
}

func (s *Server) receiptEDU(ctx context.Context, origin string, content json.RawMessage) {
	if s.o.EDUs == nil {
		return
	}
	var rooms map[string]map[string]map[string]struct {
		Data struct {
			ThreadID string `json:"thread_id"`
		} `json:"data"`
		EventIDs []string `json:"event_ids"`
	}
	if json.Unmarshal(content, &rooms) != nil {
		return
	}
	for roomID, types := range rooms {
		for typ, users := range types {
			if typ != "m.read" { // private receipts never leave a server
				continue
			}
			for user, rc := range users {
				if len(rc.EventIDs) == 0 || !s.joinedFrom(ctx, origin, roomID, user) {
					continue
				}
				if _, err := s.o.EDUs.PutReceipt(ctx, roomID, typ, user, rc.EventIDs[0], rc.Data.ThreadID); err != nil {
					s.log.Debug("remote receipt not stored", "room", roomID, "user", user, "err", err)
				}
			}
		}
	}
}

func (s *Server) presenceEDU(origin string, content json.RawMessage) {
	if s.o.Presence == nil {
		return
	}
	var c struct {
		Push []struct {
			UserID    string  `json:"user_id"`
			Presence  string  `json:"presence"`
			StatusMsg *string `json:"status_msg"`
		} `json:"push"`
	}
	if json.Unmarshal(content, &c) != nil {
		return
	}
	for i, p := range c.Push {
		if i >= 1000 || pdu.Domain(p.UserID) != origin {
			continue
		}
		switch p.Presence {
		case "online", "offline", "unavailable":
			s.o.Presence.Set(p.UserID, p.Presence, p.StatusMsg)
		}
	}
}

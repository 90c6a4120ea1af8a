package federation

import (
	"context"
	"encoding/json"
	"fmt"

	"hearth/services/matrix/pdu"
)

// MaxPDUBytes is the spec's limit on one PDU.
const MaxPDUBytes = 65536

// verifyPDU parses a PDU of a room version and checks it as the spec's
// "Checks performed on receipt of a PDU" steps 1–3 say: format, the
// signatures of every server that must sign it (keys valid at its
// origin_server_ts), and the content hash. An event whose content hash
// fails is kept in its redacted form.
func (s *Server) verifyPDU(ctx context.Context, ver *pdu.RoomVersion, raw []byte) (*pdu.Event, error) {
	if len(raw) > MaxPDUBytes {
		return nil, fmt.Errorf("PDU of %d bytes is over the limit of %d", len(raw), MaxPDUBytes)
	}
	ev, err := pdu.Parse(ver, raw)
	if err != nil {
		return nil, err
	}
	if err := pdu.VerifySignatures(ev, s.o.Keys.Lookup(ctx, ev.OriginServerTS())); err != nil {
		return nil, err
	}
	if !ev.ContentHashOK() {
		s.log.Info("content hash mismatch: using the redacted event", "event", ev.ID())
		ev = ev.Redacted()
	}
	return ev, nil
}

// verifyPDUs verifies a list, dropping (and logging) events that fail.
func (s *Server) verifyPDUs(ctx context.Context, ver *pdu.RoomVersion, raws []json.RawMessage, roomID string) []*pdu.Event {
	out := make([]*pdu.Event, 0, len(raws))
	for _, raw := range raws {
		ev, err := s.verifyPDU(ctx, ver, raw)
		if err != nil {
			s.log.Info("dropping a PDU that fails verification", "room", roomID, "err", err)
			continue
		}
		if roomID != "" && ev.RoomID() != roomID {
			s.log.Info("dropping a PDU of another room", "room", roomID, "event", ev.ID())
			continue
		}
		out = append(out, ev)
	}
	return out
}

// rawPDUs lists events as their exact JSON.
func rawPDUs(evs []*pdu.Event) []json.RawMessage {
	out := make([]json.RawMessage, 0, len(evs))
	for _, ev := range evs {
		out = append(out, json.RawMessage(ev.JSON()))
	}
	return out
}

package roomserver

import (
	"encoding/binary"

	"hearth/services/storage"
)

func u64(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}

func keyRoomByID(roomID string) []byte { return storage.Key(storage.PrefixRoomByID, []byte(roomID)) }
func keyRoomHead(room uint64) []byte   { return storage.Key(storage.PrefixRoomHead, u64(room)) }
func keyEvent(nid uint64) []byte       { return storage.Key(storage.PrefixEvent, u64(nid)) }
func keyEventByID(id string) []byte    { return storage.Key(storage.PrefixEventByID, []byte(id)) }
func keyTimeline(room, nid uint64) []byte {
	return storage.Key(storage.PrefixTimeline, u64(room), u64(nid))
}
func keyTimelinePrefix(room uint64) []byte { return storage.Key(storage.PrefixTimeline, u64(room)) }
func keyCurrentState(room uint64, typ, stateKey string) []byte {
	return storage.Key(storage.PrefixCurrentState, u64(room), []byte(typ), []byte{0}, []byte(stateKey))
}
func keyCurrentStatePrefix(room uint64) []byte {
	return storage.Key(storage.PrefixCurrentState, u64(room))
}
func keyUserRoom(user string, room uint64) []byte {
	return storage.Key(storage.PrefixUserRooms, []byte(user), []byte{0}, u64(room))
}
func keyUserRoomsPrefix(user string) []byte {
	return storage.Key(storage.PrefixUserRooms, []byte(user), []byte{0})
}
func keyTxn(t TxnKey) []byte {
	return storage.Key(storage.PrefixTxnID, []byte(t.User), []byte{0}, []byte(t.Device), []byte{0},
		[]byte(t.Scope), []byte{0}, []byte(t.TxnID))
}

var keyLastRoomNID = storage.Key(storage.PrefixRoomserverMeta, []byte("last_room_nid"))

// Event record layout (version 2): version byte, room NID, flags,
// redacting event NID, the event ID's length (one byte) and the event ID,
// then the event's exact JSON. Version 1 records have no event ID (it is
// recomputed from the JSON); they are still read.
const (
	recordVersion   = 2
	recordVersionV1 = 1
	headerLenV1     = 1 + 8 + 1 + 8
)

// Event flags.
const (
	flagRejected   = 1 << 0
	flagSoftFailed = 1 << 1
	flagOutlier    = 1 << 2
	flagRedacted   = 1 << 3
	flagHistory    = 1 << 4 // a backfilled event placed in the timeline
)

type record struct {
	room       uint64
	flags      byte
	redactedBy uint64
	id         string // "" in version 1 records
	json       []byte
}

func (r record) encode() []byte {
	id := r.id
	if len(id) > 255 {
		id = "" // cannot happen for valid events; the reader recomputes it
	}
	b := make([]byte, headerLenV1+1+len(id), headerLenV1+1+len(id)+len(r.json))
	b[0] = recordVersion
	binary.BigEndian.PutUint64(b[1:9], r.room)
	b[9] = r.flags
	binary.BigEndian.PutUint64(b[10:18], r.redactedBy)
	b[18] = byte(len(id))
	copy(b[19:], id)
	return append(b, r.json...)
}

func decodeRecord(b []byte) (record, bool) {
	if len(b) < headerLenV1 || (b[0] != recordVersion && b[0] != recordVersionV1) {
		return record{}, false
	}
	r := record{
		room:       binary.BigEndian.Uint64(b[1:9]),
		flags:      b[9],
		redactedBy: binary.BigEndian.Uint64(b[10:18]),
	}
	rest := b[headerLenV1:]
	if b[0] == recordVersion {
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return record{}, false
		}
		r.id = string(rest[1 : 1+int(rest[0])])
		rest = rest[1+int(rest[0]):]
	}
	r.json = rest
	return r, true
}

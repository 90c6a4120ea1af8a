package sync

import (
	"time"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
)

// Formatter turns stored events into the client event format (spec "Room
// event format": ClientEvent and ClientEventWithoutRoomID). The zero value
// formats client events with the age taken from time.Now.
type Formatter struct {
	// Now is the clock for unsigned.age; nil means time.Now.
	Now func() time.Time
	// TransactionID returns the transaction ID of an event when the device
	// asking is the one that sent it, else "". nil means never.
	TransactionID func(ev *pdu.Event) string
	// Federation formats events as the stored PDU (event_format
	// "federation") instead of the client format.
	Federation bool
	// Fields keeps only these paths of each event (event_fields); nil keeps
	// everything.
	Fields []FieldPath
}

// keptUnsigned are the members of a stored event's unsigned object that are
// passed to clients. Anything else a remote server put there is dropped:
// the unsigned object is not covered by signatures.
var keptUnsigned = []string{"prev_content", "prev_sender", "replaces_state", "redacted_because"}

// ClientEvent formats one event. It carries content, event_id,
// origin_server_ts, sender, type, state_key (state events only), room_id
// (when includeRoomID) and unsigned {age, transaction_id, and the kept
// members of the stored unsigned}. The content is the stored content,
// untouched, except for redactions: since room version 11 redacts lives in
// content and is copied to the top level for older clients; before v11 it
// lives at the top level and is copied into content for newer clients.
func (f Formatter) ClientEvent(ev *pdu.Event, includeRoomID bool) cjson.Value {
	var now time.Time
	if f.Now != nil {
		now = f.Now()
	} else {
		now = time.Now()
	}
	return f.format(ev, includeRoomID, now.UnixMilli())
}

func (f Formatter) format(ev *pdu.Event, includeRoomID bool, nowMS int64) cjson.Value {
	var txnID string
	if f.TransactionID != nil {
		txnID = f.TransactionID(ev)
	}
	var out cjson.Value
	if f.Federation {
		out = ev.Object()
		if txnID != "" {
			out = out.With("unsigned", ev.Unsigned().With("transaction_id", cjson.StrOf(txnID)))
		}
	} else {
		out = clientObject(ev, includeRoomID, nowMS, txnID)
	}
	if f.Fields != nil {
		out = project(out, f.Fields)
	}
	return out
}

func clientObject(ev *pdu.Event, includeRoomID bool, nowMS int64, txnID string) cjson.Value {
	members := make([]cjson.Member, 0, 9)
	content := ev.Content()
	if red := ev.Redacts(); red != "" {
		members = append(members, cjson.M("redacts", cjson.StrOf(red)))
		if !content.Has("redacts") { // before v11: also in content
			content = content.With("redacts", cjson.StrOf(red))
		}
	}
	members = append(members,
		cjson.M("content", content),
		cjson.M("event_id", cjson.StrOf(ev.ID())),
		cjson.M("origin_server_ts", cjson.IntOf(ev.OriginServerTS())),
		cjson.M("sender", cjson.StrOf(ev.Sender())),
		cjson.M("type", cjson.StrOf(ev.Type())),
	)
	if sk, ok := ev.StateKey(); ok {
		members = append(members, cjson.M("state_key", cjson.StrOf(sk)))
	}
	if includeRoomID {
		members = append(members, cjson.M("room_id", cjson.StrOf(ev.RoomID())))
	}
	unsigned := ev.Unsigned().Only(keptUnsigned...)
	if !unsigned.Exists() {
		unsigned = cjson.EmptyObject()
	}
	unsigned = unsigned.With("age", cjson.IntOf(nowMS-ev.OriginServerTS()))
	if txnID != "" {
		unsigned = unsigned.With("transaction_id", cjson.StrOf(txnID))
	}
	members = append(members, cjson.M("unsigned", unsigned))
	return cjson.ObjectOf(members...)
}

// StrippedEvent is the stripped state form of a state event: only sender,
// type, state_key and content (spec "Stripped state").
func StrippedEvent(ev *pdu.Event) cjson.Value {
	sk, _ := ev.StateKey()
	return cjson.ObjectOf(
		cjson.M("content", ev.Content()),
		cjson.M("sender", cjson.StrOf(ev.Sender())),
		cjson.M("state_key", cjson.StrOf(sk)),
		cjson.M("type", cjson.StrOf(ev.Type())),
	)
}

// strip prunes a stripped state event received from elsewhere (an invite's
// unsigned.invite_room_state) to the stripped schema; ok is false when it
// does not have that shape.
func strip(v cjson.Value) (cjson.Value, bool) {
	if v.Kind() != cjson.Object || v.Get("content").Kind() != cjson.Object {
		return cjson.Value{}, false
	}
	for _, k := range []string{"sender", "type", "state_key"} {
		if v.Get(k).Kind() != cjson.String {
			return cjson.Value{}, false
		}
	}
	return v.Only("content", "sender", "state_key", "type"), true
}

// project keeps only the given paths of an object.
func project(v cjson.Value, paths []FieldPath) cjson.Value {
	out := cjson.EmptyObject()
	for _, p := range paths {
		if len(p) > 0 {
			out = mergePath(out, v, p)
		}
	}
	return out
}

// mergePath copies the value at path p of src into out.
func mergePath(out, src cjson.Value, p FieldPath) cjson.Value {
	val := src.Get(p[0])
	if !val.Exists() {
		return out
	}
	if len(p) == 1 {
		return out.With(p[0], val)
	}
	if val.Kind() != cjson.Object {
		return out
	}
	sub := out.Get(p[0])
	if sub.Kind() != cjson.Object {
		sub = cjson.EmptyObject()
	}
	return out.With(p[0], mergePath(sub, val, p[1:]))
}

package roomserver

import (
	"encoding/binary"
	"testing"
)

func TestRecordVersions(t *testing.T) {
	r := record{room: 7, flags: flagRedacted, redactedBy: 9, id: "$abc", json: []byte(`{"type":"m.room.message"}`)}
	got, ok := decodeRecord(r.encode())
	if !ok || got.room != 7 || got.flags != flagRedacted || got.redactedBy != 9 || got.id != "$abc" || string(got.json) != string(r.json) {
		t.Fatalf("version 2 round trip: %+v %v", got, ok)
	}
	// A version 1 record (no event ID) written by an older Hearth still reads.
	v1 := make([]byte, headerLenV1)
	v1[0] = recordVersionV1
	binary.BigEndian.PutUint64(v1[1:9], 3)
	v1 = append(v1, `{"a":1}`...)
	old, ok := decodeRecord(v1)
	if !ok || old.room != 3 || old.id != "" || string(old.json) != `{"a":1}` {
		t.Fatalf("version 1 record: %+v %v", old, ok)
	}
	for _, bad := range [][]byte{nil, {2}, {9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, append(make([]byte, 0), append([]byte{2}, make([]byte, 17)...)...)} {
		if _, ok := decodeRecord(bad); ok {
			t.Errorf("decoded a malformed record %x", bad)
		}
	}
}

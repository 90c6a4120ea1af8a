package pdu

import (
	"crypto/sha256"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/signing"
)

// ContentHash is the SHA-256 of the event without unsigned, signatures and
// hashes (server-server API, "Calculating the content hash for an event").
func ContentHash(obj cjson.Value) [32]byte {
	return sha256.Sum256(cjson.Encode(obj.Without("unsigned", "signatures", "hashes")))
}

// ReferenceHash is the SHA-256 of the redacted event without signatures and
// unsigned: the basis of event IDs and v12 room IDs.
func (v *RoomVersion) ReferenceHash(obj cjson.Value) [32]byte {
	return sha256.Sum256(cjson.Encode(v.Redact(obj).Without("signatures", "unsigned")))
}

// EventID computes the event ID: "$" and the URL-safe unpadded base64 of the
// reference hash (room versions 4 and later).
func (v *RoomVersion) EventID(obj cjson.Value) string {
	h := v.ReferenceHash(obj)
	return "$" + signing.EncodeBase64URL(h[:])
}

// RoomIDFromCreateEventID is the v12 room ID: the create event's ID with "!"
// in place of "$".
func RoomIDFromCreateEventID(eventID string) string {
	if len(eventID) == 0 {
		return ""
	}
	return "!" + eventID[1:]
}

// WithContentHash returns obj with hashes.sha256 set to its content hash.
func WithContentHash(obj cjson.Value) cjson.Value {
	h := ContentHash(obj)
	return obj.With("hashes", cjson.ObjectOf(cjson.M("sha256", cjson.StrOf(signing.EncodeBase64(h[:])))))
}

// ContentHashMatches reports whether hashes.sha256 of obj is its content hash.
func ContentHashMatches(obj cjson.Value) bool {
	s, ok := obj.Path("hashes", "sha256").Str()
	if !ok {
		return false
	}
	got, err := signing.DecodeBase64(s)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	want := ContentHash(obj)
	return string(got) == string(want[:])
}

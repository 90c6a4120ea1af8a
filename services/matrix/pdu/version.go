package pdu

// RedactionRules names the redaction algorithm of a room version.
type RedactionRules int

// The redaction algorithms of the supported room versions.
const (
	RedactV6  RedactionRules = 6  // v6–v7: aliases no longer special
	RedactV8  RedactionRules = 8  // v8: join_rules.allow kept
	RedactV9  RedactionRules = 9  // v9–v10: member.join_authorised_via_users_server kept
	RedactV11 RedactionRules = 11 // v11–v12: origin/membership/prev_state dropped; more content kept
)

// StateResAlgorithm names the state resolution algorithm of a room version.
type StateResAlgorithm int

// The state resolution algorithms.
const (
	StateResV2  StateResAlgorithm = 2  // rooms 2–11
	StateResV21 StateResAlgorithm = 21 // room 12 (MSC4297)
)

// RoomVersion carries every difference between room versions that the server
// implements. Obtain one with Version; never build one by hand.
type RoomVersion struct {
	ID        string
	Redaction RedactionRules
	StateRes  StateResAlgorithm

	// Knocking: the knock membership and join rule (v7+).
	Knocking bool
	// Restricted: the restricted join rule and join_authorised_via_users_server (v8+).
	Restricted bool
	// KnockRestricted: the knock_restricted join rule (v10+).
	KnockRestricted bool
	// IntegerPowerLevels: power-level values must be integers, not strings (v10+).
	IntegerPowerLevels bool
	// CreatorIsSender: the creator is the create event's sender, not
	// content.creator; the create rule compares room_id's and sender's domains (v11+).
	CreatorIsSender bool
	// RedactsInContent: m.room.redaction carries redacts in content (v11+).
	RedactsInContent bool
	// RoomIDIsCreateHash: the room ID is the create event's reference hash, the
	// create event has no room_id and is never an auth event (v12).
	RoomIDIsCreateHash bool
	// PrivilegedCreators: creators (sender + additional_creators) have infinite
	// power and may not appear in power_levels.users (v12).
	PrivilegedCreators bool
}

// DefaultVersion is the room version of new rooms.
const DefaultVersion = "12"

var versions = map[string]*RoomVersion{
	"6":  {ID: "6", Redaction: RedactV6, StateRes: StateResV2},
	"7":  {ID: "7", Redaction: RedactV6, StateRes: StateResV2, Knocking: true},
	"8":  {ID: "8", Redaction: RedactV8, StateRes: StateResV2, Knocking: true, Restricted: true},
	"9":  {ID: "9", Redaction: RedactV9, StateRes: StateResV2, Knocking: true, Restricted: true},
	"10": {ID: "10", Redaction: RedactV9, StateRes: StateResV2, Knocking: true, Restricted: true, KnockRestricted: true, IntegerPowerLevels: true},
	"11": {ID: "11", Redaction: RedactV11, StateRes: StateResV2, Knocking: true, Restricted: true, KnockRestricted: true, IntegerPowerLevels: true, CreatorIsSender: true, RedactsInContent: true},
	"12": {ID: "12", Redaction: RedactV11, StateRes: StateResV21, Knocking: true, Restricted: true, KnockRestricted: true, IntegerPowerLevels: true, CreatorIsSender: true, RedactsInContent: true, RoomIDIsCreateHash: true, PrivilegedCreators: true},
}

// Version returns the room version with the given identifier, or false when
// this server does not support it.
func Version(id string) (*RoomVersion, bool) {
	v, ok := versions[id]
	return v, ok
}

// SupportedVersions lists the supported room versions in ascending order.
func SupportedVersions() []string {
	return []string{"6", "7", "8", "9", "10", "11", "12"}
}

// MustVersion is Version for constants in tests and tables; it panics for an
// unsupported version and must not see outside input.
func MustVersion(id string) *RoomVersion {
	v, ok := versions[id]
	if !ok {
		panic("pdu: unsupported room version " + id)
	}
	return v
}

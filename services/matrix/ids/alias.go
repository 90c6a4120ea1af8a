package ids

// RoomAlias is a parsed room alias, "#localpart:server" (spec appendices,
// "Room Aliases"). Server is the server name of the homeserver that created
// the alias and answers queries for it.
type RoomAlias struct {
	Localpart string
	Server    string
}

// String returns the alias in wire form; for a parsed value, exactly the
// input.
func (a RoomAlias) String() string { return "#" + a.Localpart + ":" + a.Server }

// Domain returns the server name of the homeserver responsible for the alias.
func (a RoomAlias) Domain() string { return a.Server }

// ParseRoomAlias parses a room alias. The spec lets the localpart be any
// valid non-surrogate Unicode except ':' and NUL, and limits the whole alias
// to 255 bytes. The localpart must also be non-empty here: "#:server" is not
// a usable alias and nothing in the spec suggests it is one.
func ParseRoomAlias(s string) (RoomAlias, error) {
	const kind = "room alias"
	local, server, err := splitSigilID(s, '#', kind)
	if err != nil {
		return RoomAlias{}, err
	}
	if local == "" {
		return RoomAlias{}, invalid(kind, "empty localpart")
	}
	if reason := looseLocalpartReason(local); reason != "" {
		return RoomAlias{}, invalid(kind, reason)
	}
	return RoomAlias{Localpart: local, Server: server}, nil
}

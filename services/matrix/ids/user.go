package ids

// UserID is a parsed Matrix user ID, "@localpart:server" (spec appendices,
// "User Identifiers"). Server is the server name exactly as written.
type UserID struct {
	Localpart string
	Server    string
}

// String returns the user ID in wire form; for a parsed value, exactly the
// input.
func (u UserID) String() string { return "@" + u.Localpart + ":" + u.Server }

// Domain returns the server name of the homeserver that allocated the user.
func (u UserID) Domain() string { return u.Server }

// Historical reports whether the localpart falls outside the current strict
// grammar, i.e. the ID was only accepted by ParseUserIDLenient.
func (u UserID) Historical() bool { return strictLocalpartReason(u.Localpart) != "" }

// Compliant reports whether the localpart is non-empty and made only of
// U+0021..U+007E. The spec calls other historical user IDs "non-compliant":
// servers must accept them in events over federation, but SHOULD NOT forward
// them to clients outside the context of an event (for example, device list
// updates from them are dropped).
func (u UserID) Compliant() bool {
	if u.Localpart == "" {
		return false
	}
	for i := 0; i < len(u.Localpart); i++ {
		if c := u.Localpart[i]; c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// ParseUserID parses a user ID under the current grammar:
//
//	user_id = "@" 1*user_id_char ":" server_name
//	user_id_char = DIGIT / %x61-7A / "-" / "." / "=" / "_" / "/" / "+"
//
// with the whole ID at most 255 bytes. Use it for IDs this server creates or
// that a client names for a new account. For IDs that may predate the current
// grammar (event senders, membership state keys received over federation)
// use ParseUserIDLenient.
func ParseUserID(s string) (UserID, error) {
	local, server, err := splitSigilID(s, '@', "user ID")
	if err != nil {
		return UserID{}, err
	}
	if reason := strictLocalpartReason(local); reason != "" {
		return UserID{}, invalid("user ID", reason)
	}
	return UserID{Localpart: local, Server: server}, nil
}

// ParseUserIDLenient parses a user ID accepting historical localparts. The
// spec ("Historical User IDs") says servers and clients MUST accept
// localparts of any valid non-surrogate Unicode code points except ':' and
// NUL, including control characters and the empty string; rejecting them
// would make this server refuse events in rooms whose history contains such
// senders. The length limit and server name grammar are unchanged. Use
// UserID.Compliant to apply the spec's further "non-compliant" distinction.
//
// Anything ParseUserID accepts, ParseUserIDLenient accepts too.
func ParseUserIDLenient(s string) (UserID, error) {
	local, server, err := splitSigilID(s, '@', "user ID")
	if err != nil {
		return UserID{}, err
	}
	if reason := looseLocalpartReason(local); reason != "" {
		return UserID{}, invalid("user ID", reason)
	}
	return UserID{Localpart: local, Server: server}, nil
}

// NewUserID builds a user ID for a new account from a localpart and this
// server's name, checking the strict grammar and the 255-byte limit on the
// combined ID. Registration should report its error as M_INVALID_USERNAME.
func NewUserID(localpart, server string) (UserID, error) {
	if reason := strictLocalpartReason(localpart); reason != "" {
		return UserID{}, invalid("user ID", reason)
	}
	if _, reason := parseServerName(server); reason != "" {
		return UserID{}, invalid("user ID", "server name: "+reason)
	}
	if 1+len(localpart)+1+len(server) > maxIDLen {
		return UserID{}, invalid("user ID", "longer than 255 bytes")
	}
	return UserID{Localpart: localpart, Server: server}, nil
}

// ValidLocalpart reports whether s is a non-empty localpart under the strict
// user ID grammar, as required when registering an account. It does not
// check the 255-byte limit of the full ID, which depends on the server name;
// NewUserID does.
func ValidLocalpart(s string) bool { return strictLocalpartReason(s) == "" }

package storage

import "fmt"

// Prefix is the first byte of every key. Each prefix belongs to one package;
// a package touches only keys under its own prefixes.
type Prefix byte

// The registry. Never reuse or renumber a prefix: data on disk depends on it.
// Add new prefixes at the end with the owning package's name.
const (
	PrefixMeta Prefix = 0x01 // storage: schema version, server identity

	// users (0x10–0x1F)
	PrefixUserAccount     Prefix = 0x10 // users: account by localpart
	PrefixUserDevice      Prefix = 0x11 // users: device by (user, device ID)
	PrefixUserAccessToken Prefix = 0x12 // users: access token hash → session
	PrefixUserRefresh     Prefix = 0x13 // users: refresh token hash → session
	PrefixUserRegToken    Prefix = 0x14 // users: registration tokens
	PrefixUserUIA         Prefix = 0x15 // users: UIA sessions
	PrefixUserProfile     Prefix = 0x16 // users: display name, avatar, custom fields
	PrefixUserAccountData Prefix = 0x17 // users: account data (global and per room)
	PrefixUserFilter      Prefix = 0x18 // users: stored sync filters

	// roomserver (0x20–0x2F)
	PrefixRoomByID       Prefix = 0x20 // roomserver: room ID → room NID
	PrefixRoomHead       Prefix = 0x21 // roomserver: room NID → version, forward extremities, depth
	PrefixEvent          Prefix = 0x22 // roomserver: event NID → header + exact JSON
	PrefixEventByID      Prefix = 0x23 // roomserver: event ID → event NID
	PrefixTimeline       Prefix = 0x24 // roomserver: room NID + event NID → (key only)
	PrefixCurrentState   Prefix = 0x25 // roomserver: room NID + type + 0 + state key → event NID
	PrefixUserRooms      Prefix = 0x26 // roomserver: user ID + 0 + room NID → membership
	PrefixTxnID          Prefix = 0x27 // roomserver: user + device + txn ID → event ID
	PrefixStateAt        Prefix = 0x28 // roomserver: event NID → state snapshot NID
	PrefixStateSnapshot  Prefix = 0x29 // roomserver: snapshot NID → parent + delta
	PrefixRoomAlias      Prefix = 0x2A // roomserver: alias → room ID, creator
	PrefixRoomAliases    Prefix = 0x2B // roomserver: room NID + alias (aliases of a room)
	PrefixPublicRoom     Prefix = 0x2C // roomserver: room NID → published in the directory
	PrefixForgotten      Prefix = 0x2D // roomserver: user + 0 + room NID → forgotten
	PrefixRelation       Prefix = 0x2E // roomserver: room NID + parent event NID + rel type + child NID
	PrefixRoomserverMeta Prefix = 0x2F // roomserver: counters

	// sync / ephemeral (0x30–0x3F)
	PrefixReceipt       Prefix = 0x30 // ephemeral: room ID + 0 + receipt type + 0 + user → receipt
	PrefixReceiptStream Prefix = 0x31 // ephemeral: stream position → room ID (receipt changes)
	PrefixEphemeralMeta Prefix = 0x3F // ephemeral: counters

	// federation (0x40–0x4F)
	PrefixFedServerKey   Prefix = 0x40 // federation/keys: server name + 0 + key ID → remote verify key
	PrefixFedQueue       Prefix = 0x41 // federation/queue: destination + 0 + seq → queued PDU or EDU
	PrefixFedDestination Prefix = 0x42 // federation/queue: destination → backoff and pending transaction
	PrefixFedInboundTxn  Prefix = 0x43 // federation: origin + 0 + txn ID → response (deduplication)
	PrefixFedMeta        Prefix = 0x4F // federation: counters, outbound cursor

	// roomserver, continued (0x50–0x5F)
	PrefixRoomInvite Prefix = 0x50 // roomserver: user + 0 + room ID → invite event + stripped state (remote rooms)
	PrefixEventExtra Prefix = 0x51 // roomserver: event NID → per-event facts (rejection reason)
)

// registry names the owner of each prefix, for checks and diagnostics.
var registry = map[Prefix]string{
	PrefixMeta:            "storage",
	PrefixUserAccount:     "users",
	PrefixUserDevice:      "users",
	PrefixUserAccessToken: "users",
	PrefixUserRefresh:     "users",
	PrefixUserRegToken:    "users",
	PrefixUserUIA:         "users",
	PrefixUserProfile:     "users",
	PrefixUserAccountData: "users",
	PrefixUserFilter:      "users",
	PrefixRoomByID:        "roomserver",
	PrefixRoomHead:        "roomserver",
	PrefixEvent:           "roomserver",
	PrefixEventByID:       "roomserver",
	PrefixTimeline:        "roomserver",
	PrefixCurrentState:    "roomserver",
	PrefixUserRooms:       "roomserver",
	PrefixTxnID:           "roomserver",
	PrefixStateAt:         "roomserver",
	PrefixStateSnapshot:   "roomserver",
	PrefixRoomserverMeta:  "roomserver",
	PrefixRoomAlias:       "roomserver",
	PrefixRoomAliases:     "roomserver",
	PrefixPublicRoom:      "roomserver",
	PrefixForgotten:       "roomserver",
	PrefixRelation:        "roomserver",
	PrefixReceipt:         "ephemeral",
	PrefixReceiptStream:   "ephemeral",
	PrefixEphemeralMeta:   "ephemeral",
	PrefixFedServerKey:    "federation/keys",
	PrefixFedQueue:        "federation/queue",
	PrefixFedDestination:  "federation/queue",
	PrefixFedInboundTxn:   "federation",
	PrefixFedMeta:         "federation",
	PrefixRoomInvite:      "roomserver",
	PrefixEventExtra:      "roomserver",
}

// Owner names the package that owns a prefix.
func Owner(p Prefix) (string, bool) {
	o, ok := registry[p]
	return o, ok
}

// Key builds a key under prefix p from parts, each appended as is. Callers
// build fixed-width big-endian integers into parts so scans come out in order.
func Key(p Prefix, parts ...[]byte) []byte {
	n := 1
	for _, part := range parts {
		n += len(part)
	}
	k := make([]byte, 0, n)
	k = append(k, byte(p))
	for _, part := range parts {
		k = append(k, part...)
	}
	return k
}

func (p Prefix) String() string {
	if o, ok := registry[p]; ok {
		return fmt.Sprintf("0x%02x(%s)", byte(p), o)
	}
	return fmt.Sprintf("0x%02x(unregistered)", byte(p))
}

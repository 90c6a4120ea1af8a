package sync

import (
	"context"

	"hearth/services/matrix/cjson"
)

// Response is the body of a /sync answer (sync.yaml). Its JSON tags follow
// the spec. Lists are never null: empty ones encode as []. The room
// sections (join, invite, knock, leave) are left out when empty.
type Response struct {
	NextBatch   string     `json:"next_batch"`
	Rooms       Rooms      `json:"rooms"`
	Presence    EventBatch `json:"presence"`
	AccountData EventBatch `json:"account_data"`
	ToDevice    EventBatch `json:"to_device"`
	// DeviceLists is filled by the E2EE sources; nil leaves it out.
	DeviceLists *DeviceLists `json:"device_lists,omitempty"`
	// DeviceOneTimeKeysCount and DeviceUnusedFallbackKeyTypes are always
	// present (pitfall 6: clients stop uploading keys without them).
	DeviceOneTimeKeysCount       map[string]int `json:"device_one_time_keys_count"`
	DeviceUnusedFallbackKeyTypes []string       `json:"device_unused_fallback_key_types"`

	// more is set when a stream had more news than one response reads:
	// the response is returned at once, and the next one continues.
	more bool
}

// Rooms holds the per-room updates by membership.
type Rooms struct {
	Join   map[string]*JoinedRoom  `json:"join,omitempty"`
	Invite map[string]*InvitedRoom `json:"invite,omitempty"`
	Knock  map[string]*KnockedRoom `json:"knock,omitempty"`
	Leave  map[string]*LeftRoom    `json:"leave,omitempty"`
}

// EventBatch is a list of events.
type EventBatch struct {
	Events []cjson.Value `json:"events"`
}

// Timeline is a room's timeline slice.
type Timeline struct {
	Events    []cjson.Value `json:"events"`
	Limited   bool          `json:"limited"`
	PrevBatch string        `json:"prev_batch,omitempty"`
}

// JoinedRoom is one room under rooms.join.
type JoinedRoom struct {
	Summary             RoomSummary         `json:"summary"`
	State               EventBatch          `json:"state"`
	Timeline            Timeline            `json:"timeline"`
	Ephemeral           EventBatch          `json:"ephemeral"`
	AccountData         EventBatch          `json:"account_data"`
	UnreadNotifications UnreadNotifications `json:"unread_notifications"`
}

// RoomSummary is a joined room's summary. Fields that did not change since
// the last sync are left out, as the spec allows.
type RoomSummary struct {
	Heroes             []string `json:"m.heroes,omitempty"`
	JoinedMemberCount  *int     `json:"m.joined_member_count,omitempty"`
	InvitedMemberCount *int     `json:"m.invited_member_count,omitempty"`
}

// UnreadNotifications are a room's notification counts.
type UnreadNotifications struct {
	HighlightCount    int `json:"highlight_count"`
	NotificationCount int `json:"notification_count"`
}

// InvitedRoom is one room under rooms.invite.
type InvitedRoom struct {
	InviteState EventBatch `json:"invite_state"`
}

// KnockedRoom is one room under rooms.knock.
type KnockedRoom struct {
	KnockState EventBatch `json:"knock_state"`
}

// LeftRoom is one room under rooms.leave.
type LeftRoom struct {
	State       EventBatch `json:"state"`
	Timeline    Timeline   `json:"timeline"`
	AccountData EventBatch `json:"account_data"`
}

// DeviceLists are the users whose devices changed, or who no longer share a
// room with the syncing user.
type DeviceLists struct {
	Changed []string `json:"changed"`
	Left    []string `json:"left"`
}

// empty reports whether the response carries nothing for the client (the
// key counts do not count: they are always sent).
func (r *Response) empty() bool {
	return len(r.Rooms.Join) == 0 && len(r.Rooms.Invite) == 0 && len(r.Rooms.Knock) == 0 &&
		len(r.Rooms.Leave) == 0 && len(r.Presence.Events) == 0 && len(r.AccountData.Events) == 0 &&
		len(r.ToDevice.Events) == 0 &&
		(r.DeviceLists == nil || len(r.DeviceLists.Changed) == 0 && len(r.DeviceLists.Left) == 0)
}

func batch() EventBatch { return EventBatch{Events: []cjson.Value{}} }

// AccountDataSource serves the account data stream (the users service).
// Positions are its own; a sync token carries the last one a client saw.
type AccountDataSource interface {
	// AccountDataSince returns the account data of user changed after
	// position from (all of it for from = 0), as {type, content} events:
	// global ones, and per-room ones by room ID. pos is the stream position
	// the answer is complete up to; it must not be below from.
	AccountDataSince(ctx context.Context, user string, from uint64) (global []cjson.Value, rooms map[string][]cjson.Value, pos uint64, err error)
}

// AccountDataFunc adapts a function to AccountDataSource.
type AccountDataFunc func(ctx context.Context, user string, from uint64) ([]cjson.Value, map[string][]cjson.Value, uint64, error)

// AccountDataSince calls f.
func (f AccountDataFunc) AccountDataSince(ctx context.Context, user string, from uint64) ([]cjson.Value, map[string][]cjson.Value, uint64, error) {
	return f(ctx, user, from)
}

// ToDeviceSource serves send-to-device messages (the keys service).
type ToDeviceSource interface {
	// ToDeviceSince returns at most limit messages for the device with
	// positions after from, oldest first, as {type, sender, content}
	// events, and the position of the last one returned (from if none).
	// Asking with from acknowledges every message up to from: the source
	// may delete them.
	ToDeviceSince(ctx context.Context, user, device string, from uint64, limit int) (events []cjson.Value, pos uint64, err error)
}

// KeyCountsSource reports a device's end-to-end key counts (the keys
// service).
type KeyCountsSource interface {
	// KeyCounts returns the unclaimed one-time key counts by algorithm and
	// the algorithms of unused fallback keys.
	KeyCounts(ctx context.Context, user, device string) (oneTime map[string]int, unusedFallback []string, err error)
}

// EphemeralSource serves the ephemeral events of joined rooms: typing
// notifications and receipts (the ephemeral service). Its two streams have
// their own positions, carried in the Typing and Receipts parts of tokens.
type EphemeralSource interface {
	// Ephemeral returns, by room of rooms, the {type, content} events for
	// user: m.typing when the room's typing list changed after typingFrom
	// (for 0: when someone types), m.receipt with the receipts user may see
	// stored after receiptFrom (for 0: all of them). typingPos and
	// receiptPos are the positions the answer is complete up to.
	Ephemeral(ctx context.Context, user string, rooms []string, typingFrom, receiptFrom uint64) (events map[string][]cjson.Value, typingPos, receiptPos uint64, err error)
}

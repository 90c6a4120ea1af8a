package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	gosync "sync"
	"time"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
	"hearth/services/matrix/push"
	"hearth/services/roomserver"
)

// ErrBadParam marks an invalid request parameter other than a token or a
// filter (set_presence); the HTTP layer answers 400 M_INVALID_PARAM.
var ErrBadParam = errors.New("sync: invalid parameter")

// DefaultMaxTimeout caps long polls when Options.MaxTimeout is zero.
const DefaultMaxTimeout = 60 * time.Second

// Bounds on the work one room may cost one request.
const (
	// maxTimelineScan is how many events a request reads in one room to fill
	// a filtered timeline before it gives up and reports it limited.
	maxTimelineScan = 2000
	// maxGapScan is how many events of a gap (between since and the start of
	// the timeline) are read to compute the state delta. A larger gap gets
	// the full state instead.
	maxGapScan = 1000
	// maxToDevice is how many to-device messages one response carries.
	maxToDevice = 100
	// maxHeroes is the number of heroes in a room summary.
	maxHeroes = 5
)

// Options configures a Server. The zero value works.
type Options struct {
	// Now is the clock for unsigned.age; nil means time.Now. Long polls wait
	// on real timers.
	Now func() time.Time
	// MaxTimeout caps the timeout of a long poll; 0 means DefaultMaxTimeout.
	MaxTimeout time.Duration
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// AccountData, ToDevice and Keys serve the streams that are not room
	// events; nil means the stream is empty.
	AccountData AccountDataSource
	ToDevice    ToDeviceSource
	Keys        KeyCountsSource
	// Ephemeral serves typing notifications and receipts; nil means none.
	// Its source calls Notifier().Wake (or WakeUser) after a change.
	Ephemeral EphemeralSource
	// TransactionID returns the transaction ID the device used to send an
	// event of its user, or ""; nil means none are known.
	TransactionID func(ctx context.Context, user, device, eventID string) string
	// Unread serves what unread notification counts need; without it every
	// count is 0.
	Unread UnreadSource
	// Presence serves the presence stream; nil means presence is disabled
	// (the presence section stays empty, set_presence is ignored).
	Presence PresenceSource
	// LazyDevices bounds the devices whose lazy-loaded members are
	// remembered; 0 means 1024.
	LazyDevices int
}

// Server builds classic /sync responses from the room server.
type Server struct {
	rs   *roomserver.Server
	n    *Notifier
	opts Options
	log  *slog.Logger

	lazy      *lazyCache
	positions posCache
	rules     ruleCache
	unreads   unreadCache

	wakeMu gosync.Mutex
	wake   map[string]chan struct{}
}

// New returns a sync server reading rooms from rs and waiting on n (nil
// makes a new Notifier). Pass s.Notify as the room server's Options.Notify.
func New(rs *roomserver.Server, n *Notifier, o Options) *Server {
	if n == nil {
		n = NewNotifier()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxTimeout <= 0 {
		o.MaxTimeout = DefaultMaxTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Server{rs: rs, n: n, opts: o, log: o.Logger, lazy: newLazyCache(o.LazyDevices), wake: map[string]chan struct{}{}}
}

// Notifier is the notifier the server waits on.
func (s *Server) Notifier() *Notifier { return s.n }

// Request is one /sync call, its parameters already read by the HTTP layer
// (the filter resolved from its ID or parsed inline).
type Request struct {
	UserID, DeviceID string
	// Since is the since token; "" asks for an initial sync.
	Since     string
	Filter    Filter
	FullState bool
	// Timeout is how long to wait for news; it is capped by
	// Options.MaxTimeout. Initial and full_state syncs never wait.
	Timeout time.Duration
	// SetPresence is "", "online", "offline" or "unavailable": the
	// presence the request gives its user ("" counts as online; offline
	// changes nothing). Ignored when presence is disabled.
	SetPresence string
}

// Sync answers one /sync request. With nothing to report and a timeout, it
// waits until something concerning the user happens or the timeout passes;
// a timed-out answer is empty and its next_batch covers what was looked at.
// Errors: ErrBadToken, ErrBadParam, or a storage error.
func (s *Server) Sync(ctx context.Context, req Request) (*Response, error) {
	if req.UserID == "" {
		return nil, fmt.Errorf("%w: no user", ErrBadParam)
	}
	switch req.SetPresence {
	case "", "online", "offline", "unavailable":
	default:
		return nil, fmt.Errorf("%w: set_presence must be online, offline or unavailable", ErrBadParam)
	}
	if p := s.opts.Presence; p != nil {
		p.SyncPresence(req.UserID, req.SetPresence)
	}
	var since Token
	initial := req.Since == ""
	if !initial {
		var err error
		if since, err = ParseToken(req.Since); err != nil {
			return nil, err
		}
		if since.Events > s.rs.Position() {
			// A token from the future: the store was restored from a
			// backup. Positions above the watermark will be reused, so the
			// client's knowledge cannot be trusted: start it afresh.
			s.log.Info("sync: since token ahead of the store, sending an initial sync", "user", req.UserID, "since", req.Since)
			initial, since = true, Token{}
		}
	}
	timeout := min(max(req.Timeout, 0), s.opts.MaxTimeout)
	if initial || req.FullState {
		timeout = 0
	}
	deadline := time.Now().Add(timeout)
	for {
		// The position is read before anything else: whatever commits after
		// it is newer than the answer and wakes the wait below.
		upTo := s.rs.Position()
		mark := s.n.EphemeralMark()
		wake := s.wakeChan(req.UserID)
		resp, rooms, err := s.build(ctx, &req, since, initial, upTo)
		if err != nil {
			return nil, err
		}
		remaining := time.Until(deadline)
		if !resp.empty() || remaining <= 0 || resp.more {
			return resp, nil
		}
		if !s.wait(ctx, req.UserID, rooms, upTo, mark, wake, remaining) {
			return resp, nil
		}
		// Woken: build again. News the filter hides gives an empty answer
		// again, and the request goes back to waiting.
	}
}

// wait blocks until news newer than upTo concerns the user or one of the
// rooms, WakeUser is called for the user, the timeout passes or ctx ends.
func (s *Server) wait(ctx context.Context, user string, rooms []string, upTo, mark uint64, wake <-chan struct{}, d time.Duration) bool {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-wake:
			cancel()
		case <-wctx.Done():
		}
	}()
	woken := s.n.WaitMark(wctx, user, rooms, upTo, mark, d)
	select {
	case <-wake:
		return ctx.Err() == nil
	default:
		return woken
	}
}

// build is the state of one response being built.
type build struct {
	s       *Server
	ctx     context.Context
	req     *Request
	f       *Filter
	since   Token
	initial bool
	upTo    uint64
	limit   int
	fmt     Formatter
	nowMS   int64
	resp    *Response
	// ephemeral holds the ephemeral events by room, read for the joined
	// rooms before they are built.
	ephemeral map[string][]cjson.Value
	// rules is the user's push ruleset, read once (rulesDone) when the
	// first room needs it; rulesOK is false when counts are off.
	rules              push.Ruleset
	rulesGen           uint64 // identifies the parsed ruleset (see ruleCache)
	rulesDone, rulesOK bool
}

// build computes one response covering events up to upTo. It also returns
// the rooms whose news should wake the request (joined, invited, knocked).
func (s *Server) build(ctx context.Context, req *Request, since Token, initial bool, upTo uint64) (*Response, []string, error) {
	b := &build{
		s: s, ctx: ctx, req: req, f: &req.Filter, since: since, initial: initial, upTo: upTo,
		limit: req.Filter.TimelineLimit(), nowMS: s.opts.Now().UnixMilli(),
		resp: &Response{
			Presence: batch(), AccountData: batch(), ToDevice: batch(),
			DeviceOneTimeKeysCount: map[string]int{}, DeviceUnusedFallbackKeyTypes: []string{},
		},
	}
	b.fmt = Formatter{Federation: req.Filter.Federation, Fields: req.Filter.EventFields}
	if s.opts.TransactionID != nil && req.DeviceID != "" {
		b.fmt.TransactionID = func(ev *pdu.Event) string {
			if ev.Sender() != req.UserID {
				return ""
			}
			return s.opts.TransactionID(ctx, req.UserID, req.DeviceID, ev.ID())
		}
	}
	if initial && req.DeviceID != "" {
		s.lazy.reset(req.UserID, req.DeviceID)
	}
	next := since
	next.Events = upTo

	// Account data: global now, per room with the rooms.
	var roomData map[string][]cjson.Value
	if src := s.opts.AccountData; src != nil {
		global, rooms, pos, err := src.AccountDataSince(ctx, req.UserID, since.AccountData)
		if err != nil {
			return nil, nil, fmt.Errorf("sync: account data: %w", err)
		}
		b.resp.AccountData.Events = filterTyped(global, &req.Filter.AccountData)
		roomData, next.AccountData = rooms, max(pos, since.AccountData)
	}
	if src := s.opts.ToDevice; src != nil && req.DeviceID != "" {
		evs, pos, err := src.ToDeviceSince(ctx, req.UserID, req.DeviceID, since.ToDevice, maxToDevice)
		if err != nil {
			return nil, nil, fmt.Errorf("sync: to-device: %w", err)
		}
		if len(evs) > 0 {
			b.resp.ToDevice.Events = evs
		}
		next.ToDevice = max(pos, since.ToDevice)
	}
	if src := s.opts.Keys; src != nil && req.DeviceID != "" {
		otk, fallback, err := src.KeyCounts(ctx, req.UserID, req.DeviceID)
		if err != nil {
			return nil, nil, fmt.Errorf("sync: key counts: %w", err)
		}
		if otk != nil {
			b.resp.DeviceOneTimeKeysCount = otk
		}
		if fallback != nil {
			b.resp.DeviceUnusedFallbackKeyTypes = fallback
		}
	}

	// Forgotten rooms are never sent (their leave is old news the user
	// asked to drop); a new membership clears the flag (room server).
	memberships, err := s.rs.RoomsOfFiltered(ctx, req.UserID)
	if err != nil {
		return nil, nil, fmt.Errorf("sync: rooms of %s: %w", req.UserID, err)
	}
	ids := make([]string, 0, len(memberships))
	for id := range memberships {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if src := s.opts.Ephemeral; src != nil {
		var joined []string
		for _, id := range ids {
			if memberships[id] == "join" && req.Filter.Room.MatchRoom(id) && req.Filter.Room.Ephemeral.MatchRoom(id) {
				joined = append(joined, id)
			}
		}
		tFrom, rFrom := since.Typing, since.Receipts
		if req.FullState {
			tFrom, rFrom = 0, 0
		}
		evs, tPos, rPos, err := src.Ephemeral(ctx, req.UserID, joined, tFrom, rFrom)
		if err != nil {
			return nil, nil, fmt.Errorf("sync: ephemeral: %w", err)
		}
		b.ephemeral, next.Typing, next.Receipts = evs, tPos, rPos
	}
	joinedSet := map[string]bool{}
	for id, m := range memberships {
		if m == "join" {
			joinedSet[id] = true
		}
	}
	next.Presence, b.resp.more = b.presence(joinedSet)
	var wakeRooms []string
	for _, roomID := range ids {
		m := memberships[roomID]
		if m == "join" || m == "invite" || m == "knock" {
			wakeRooms = append(wakeRooms, roomID)
		}
		if !req.Filter.Room.MatchRoom(roomID) {
			continue
		}
		if (m == "leave" || m == "ban") && initial && !req.Filter.Room.IncludeLeave {
			continue // an initial sync shows left rooms only when asked
		}
		if err := b.room(roomID, roomData[roomID]); err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			// One broken room must not stop the user's sync.
			s.log.Error("sync: room skipped", "room", roomID, "user", req.UserID, "err", err)
		}
	}
	b.resp.NextBatch = next.String()
	return b.resp, wakeRooms, nil
}

// filterTyped keeps the {type, content} events the filter lets through, up
// to its limit.
func filterTyped(evs []cjson.Value, f *EventFilter) []cjson.Value {
	out := []cjson.Value{}
	for _, ev := range evs {
		if f.Limit > 0 && len(out) >= f.Limit {
			break
		}
		if f.MatchType(ev.Get("type").StrOr("")) {
			out = append(out, ev)
		}
	}
	return out
}

package federation

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"hearth/services/federation/keys"
	"hearth/services/federation/queue"
	"hearth/services/federation/xmatrix"
	"hearth/services/matrix/acl"
	"hearth/services/matrix/pdu"
	"hearth/services/roomserver"
	"hearth/services/storage"
)

// Profiles is the profile lookup of local users (query/profile, and the
// display name put into our joins).
type Profiles interface {
	ProfileOf(userID string) (displayName, avatarURL string, err error)
}

// EDUSink receives the ephemeral data other servers send.
type EDUSink interface {
	SetTyping(roomID, userID string, typing bool, timeout time.Duration)
	PutReceipt(ctx context.Context, roomID, typ, userID, eventID, threadID string) (uint64, error)
}

// PresenceSink receives presence of remote users; optional.
type PresenceSink interface {
	Set(userID, presence string, statusMsg *string) error
}

// Options configures a Server. The zero value of the optional fields works.
type Options struct {
	ServerName string
	Signer     keys.Signer
	Keys       *keys.Ring
	Rooms      *roomserver.Server
	Queue      *queue.Queue
	Client     *Client
	DB         *storage.DB
	Profiles   Profiles     // optional
	EDUs       EDUSink      // optional
	Presence   PresenceSink // optional
	// PublicRooms lists the rooms published in our directory; optional.
	PublicRooms func(ctx context.Context) ([]string, error)
	// Version is the software version reported by /version.
	Version string
	// KeyValidity is how long our published keys are valid; 0 means the
	// keys package's default.
	KeyValidity time.Duration
	Now         func() time.Time
	Logger      *slog.Logger
	// MaxBodyBytes bounds a request body; 0 means 8 MiB (50 PDUs and 100
	// EDUs of 64 KiB fit in less).
	MaxBodyBytes int64
	// RatePerSecond and Burst bound the requests of one origin server;
	// 0 means 100 per second with a burst of 400.
	RatePerSecond float64
	Burst         int
}

// Server is the federation service: the HTTP side other servers call and
// the client side local users' actions use.
type Server struct {
	o      Options
	log    *slog.Logger
	router *router

	txnMu    sync.Mutex
	originMu map[string]*sync.Mutex // one transaction at a time per origin

	limiter *limiter
	out     *outbound

	heardMu sync.Mutex
	heard   time.Time // the last authenticated request from any server
}

// quietGap is how long no server may have reached us before the next
// request is taken as our own link coming back.
const quietGap = 30 * time.Second

// linkHeard notes an authenticated request. After a quiet spell (a field
// unit's link was down), every destination is retried at once: the others
// are likely reachable again too, and their back-off may be long.
func (s *Server) linkHeard() {
	now := s.o.Now()
	s.heardMu.Lock()
	quiet := !s.heard.IsZero() && now.Sub(s.heard) > quietGap
	s.heard = now
	s.heardMu.Unlock()
	if quiet {
		s.log.Info("federation: heard from a server after a quiet spell; retrying every destination")
		s.o.Queue.WakeAll()
	}
}

// New builds the federation service.
func New(o Options) (*Server, error) {
	if o.ServerName == "" || o.Signer == nil || o.Keys == nil || o.Rooms == nil || o.Queue == nil || o.Client == nil || o.DB == nil {
		return nil, errors.New("federation: ServerName, Signer, Keys, Rooms, Queue, Client and DB are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = 8 << 20
	}
	if o.RatePerSecond == 0 {
		o.RatePerSecond, o.Burst = 100, 400
	}
	s := &Server{o: o, log: o.Logger, originMu: map[string]*sync.Mutex{}}
	s.limiter = newLimiter(o.RatePerSecond, o.Burst, o.Now)
	s.out = newOutbound(s)
	s.router = newRouter(o.Logger)
	s.routes()
	return s, nil
}

// Handler serves /_matrix/federation and /_matrix/key.
func (s *Server) Handler() http.Handler { return s.router }

// request is an authenticated federation request.
type request struct {
	*http.Request
	origin string
	body   []byte
}

// authed wraps an endpoint that needs X-Matrix authentication. The body
// is read (bounded) first because the signature covers it.
func (s *Server) authed(h func(w http.ResponseWriter, r *request) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		body, err := io.ReadAll(io.LimitReader(r.Body, s.o.MaxBodyBytes+1))
		if err != nil {
			return errf(http.StatusBadRequest, "M_BAD_JSON", "reading the body failed")
		}
		if int64(len(body)) > s.o.MaxBodyBytes {
			return errf(http.StatusRequestEntityTooLarge, "M_TOO_LARGE", "request body larger than %d bytes", s.o.MaxBodyBytes)
		}
		origin, err := xmatrix.Verify(r, body, s.o.ServerName, func(ctx context.Context, server, keyID string) (ed25519.PublicKey, error) {
			return s.o.Keys.VerifyKey(ctx, server, keyID, s.o.Now().UnixMilli()) // our clock, not the ring's
		})
		if err != nil {
			s.log.Debug("federation request refused", "path", r.URL.Path, "err", err)
			return errf(http.StatusUnauthorized, "M_UNAUTHORIZED", "%v", err)
		}
		if wait, ok := s.limiter.allow(origin); !ok {
			return &Error{Status: http.StatusTooManyRequests, Code: "M_LIMIT_EXCEEDED", Msg: "too many requests", RetryAfter: wait.Milliseconds() + 1}
		}
		// The origin is up: whatever we owe it can go now.
		s.o.Queue.Wake(origin)
		s.o.Keys.Wake(origin)
		s.linkHeard()
		return h(w, &request{Request: r, origin: origin, body: body})
	}
}

// checkACL refuses an origin the room's server ACL denies.
func (s *Server) checkACL(ctx context.Context, roomID, origin string) error {
	ev, err := s.o.Rooms.StateEvent(ctx, roomID, "m.room.server_acl", "")
	if errors.Is(err, roomserver.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !acl.Parse(ev.Content()).Allowed(origin) {
		return errForbidden("server %s is denied by the room's server ACL", origin)
	}
	return nil
}

// roomVersion is the version of a room we hold, or a Matrix error.
func (s *Server) roomVersion(ctx context.Context, roomID string) (*pdu.RoomVersion, error) {
	ver, err := s.o.Rooms.Version(ctx, roomID)
	if errors.Is(err, roomserver.ErrNotFound) {
		return nil, errNotFound("unknown room %s", roomID)
	}
	return ver, err
}

// mapRoomErr turns room server errors into Matrix errors.
func mapRoomErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, roomserver.ErrNotFound):
		return errNotFound("%v", err)
	case errors.Is(err, roomserver.ErrForbidden):
		return errForbidden("%v", err)
	case errors.Is(err, roomserver.ErrUnableToAuthorise):
		return errf(http.StatusBadRequest, "M_UNABLE_TO_AUTHORISE_JOIN", "%v", err)
	case errors.Is(err, roomserver.ErrBadEvent), errors.Is(err, roomserver.ErrBadTemplate):
		return errBadJSON("%v", err)
	}
	return fmt.Errorf("federation: %w", err)
}

package clientapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"hearth/services/ephemeral"
	"hearth/services/presence"
	"hearth/services/roomserver"
	hsync "hearth/services/sync"
	"hearth/services/users"
)

// Options configures the API. Rooms and Accounts are required.
type Options struct {
	ServerName    string
	PublicBaseURL string // advertised in /.well-known/matrix/client
	Rooms         *roomserver.Server
	Accounts      Accounts
	// Users serves the account endpoints (register, login, devices …);
	// nil leaves them out (tests of other groups use a fake Accounts).
	Users *users.Service
	// Sync serves /sync; nil leaves it out.
	Sync         *hsync.Server
	Ephemeral    *ephemeral.Service // typing, receipts, read markers; nil leaves them out
	Registration Registration
	// MaxLongPolls bounds the /sync requests waiting at once; 0 means 10000.
	MaxLongPolls int
	// MaxBodyBytes bounds request bodies; 0 means 1 MiB.
	MaxBodyBytes int64
	// Per-user and per-IP request rates (requests per second, burst); zero
	// rate means no limit.
	UserRate, IPRate   float64
	UserBurst, IPBurst int
	Now                func() time.Time
	Logger             *slog.Logger

	// Presence is the presence store; nil means presence is disabled (see
	// routesPresence for what the endpoints answer then).
	Presence *presence.Store

	// Federation reaches rooms and users on other servers; nil keeps the
	// server to itself.
	Federation Federation
}

// Caller is the authenticated user and device of a request.
type Caller struct {
	UserID, DeviceID string
	IsGuest          bool
}

// Accounts is what the API needs from the users service to authenticate
// requests; the users service implements it.
type Accounts interface {
	// AuthenticateToken returns the caller of an access token, or an
	// *Error (M_UNKNOWN_TOKEN, possibly with soft_logout).
	AuthenticateToken(ctx context.Context, token string) (Caller, error)
}

// API is the client-server API.
type API struct {
	nonces    *nonces
	longPolls chan struct{} // one token per waiting /sync
	opts      Options
	log       *slog.Logger
	rt        *router
	userLim   *limiter
	ipLim     *limiter
	extra     []func(*router)
}

// New builds the API and its routes.
func New(o Options) *API {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxLongPolls <= 0 {
		o.MaxLongPolls = 10000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	a := &API{opts: o, log: o.Logger, rt: newRouter(o.Logger), nonces: newNonces(o.Now), longPolls: make(chan struct{}, o.MaxLongPolls)}
	a.userLim = newLimiter(o.UserRate, o.UserBurst, o.Now)
	a.ipLim = newLimiter(o.IPRate, o.IPBurst, o.Now)
	a.routesDiscovery()
	a.routesRooms()
	a.routesAccount()
	a.routesSync()
	a.routesEphemeral()
	a.routesProfile()
	a.routesAccountData()
	a.routesDevices()
	a.routesPushRules()
	a.routesPushers()
	a.routesDirectory()
	a.routesPresence()
	a.routesRoomExtras()
	return a
}

// Handle lets other packages (sync, users endpoints) add routes; pattern
// is "METHOD /path". The handler returns errors as for built-in routes.
func (a *API) Handle(pattern string, h func(w http.ResponseWriter, r *http.Request) error) {
	a.rt.handle(pattern, h)
}

// Handler is the HTTP handler of the whole API.
func (a *API) Handler() http.Handler { return a.rt }

// client registers a Client-Server endpoint under both /v3 and the legacy
// /r0 prefix (matrix-nio and other SDKs still use r0).
func (a *API) client(method, path string, h handlerFunc) {
	a.rt.handle(method+" /_matrix/client/v3"+path, h)
	a.rt.handle(method+" /_matrix/client/r0"+path, h)
}

// clientV1 registers an endpoint that only exists under /v1.
func (a *API) clientV1(method, path string, h handlerFunc) {
	a.rt.handle(method+" /_matrix/client/v1"+path, h)
}

type callerKey struct{}

// authed wraps h so it runs only for a valid access token, with per-user
// rate limiting; the caller is in the request context.
func (a *API) authed(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if ok, wait := a.ipLim.allow(clientIP(r)); !ok {
			return limitExceeded(wait)
		}
		token := accessToken(r)
		if token == "" {
			return Errf(http.StatusUnauthorized, "M_MISSING_TOKEN", "Missing access token")
		}
		c, err := a.opts.Accounts.AuthenticateToken(r.Context(), token)
		if err != nil {
			return err
		}
		if ok, wait := a.userLim.allow(c.UserID); !ok {
			return limitExceeded(wait)
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
	}
}

// open wraps an unauthenticated endpoint with per-IP rate limiting.
func (a *API) open(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if ok, wait := a.ipLim.allow(clientIP(r)); !ok {
			return limitExceeded(wait)
		}
		return h(w, r)
	}
}

// CallerOf returns the authenticated caller of a request wrapped by authed.
func CallerOf(r *http.Request) Caller {
	c, _ := r.Context().Value(callerKey{}).(Caller)
	return c
}

// accessToken reads the token from the Authorization header or, for older
// clients, the access_token query parameter (deprecated, still in v1.19).
func accessToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); len(h) > 7 && (h[:7] == "Bearer " || h[:7] == "bearer ") {
		return h[7:]
	}
	return r.URL.Query().Get("access_token")
}

func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	for i := len(host) - 1; i >= 0; i-- {
		if host[i] == ':' {
			return host[:i]
		}
	}
	return host
}

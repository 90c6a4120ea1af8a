package config

// Config is the whole configuration of one Hearth server: the contents of its
// TOML file. The zero value is a working laptop configuration; every field
// says what its zero value means. Use Default or WithDefaults to see the
// values the server will actually use.
type Config struct {
	// Server names the server and says where its data lives.
	Server ServerConfig `toml:"server"`
	// Client is the listener for the client-server API (/_matrix/client).
	Client ClientConfig `toml:"client"`
	// Registration says who may create accounts.
	Registration RegistrationConfig `toml:"registration"`
	// Auth holds the login settings: token lifetimes and password rules.
	Auth AuthConfig `toml:"auth"`
	// Limits bounds what one client can make the server do.
	Limits LimitsConfig `toml:"limits"`
	// Presence turns online/offline status on or off. On by default.
	Presence PresenceConfig `toml:"presence"`
	// Storage sizes the database and the process's memory. Zero values
	// suit a board with 1 GiB of RAM.
	Storage StorageConfig `toml:"storage"`
	// Federation is server-to-server traffic. Off by default.
	Federation FederationConfig `toml:"federation"`
	// Log says how much to log, and in which format.
	Log LogConfig `toml:"log"`
}

// ServerConfig is the [server] table.
type ServerConfig struct {
	// Name is the server name: the part after the colon in @user:name and
	// #alias:name. Grammar: host[:port], where host is a DNS name, an IPv4
	// address or an IPv6 address in brackets. It is part of every user ID
	// and room alias on this server and cannot be changed once users
	// exist. Default "localhost".
	Name string `toml:"name"`
	// PublicBaseURL is the URL clients use to reach the client API, as
	// published in /.well-known/matrix/client: scheme, host, optional port
	// and optional path prefix, no query. Set it whenever clients come in
	// through a reverse proxy, another host name or another port. Default:
	// derived from Client.Listen, "http://127.0.0.1:8008" for the default
	// listener; "https" when Client.TLSCert is set; when the listener's host
	// is unspecified ("", "0.0.0.0", "::") the host of Name is used instead.
	// When Client.Listen has port 0 the default is empty and the server fills
	// it in once it knows its port.
	PublicBaseURL string `toml:"public_base_url"`
	// DataDir is the folder for the database, media and keys. Relative paths
	// are relative to the working directory; the appliance uses a folder
	// under /perm. Default "./data".
	DataDir string `toml:"data_dir"`
}

// ClientConfig is the [client] table: the listener for the client-server API.
type ClientConfig struct {
	// Listen is the host:port the client API listens on. Port 0 picks a free
	// port (tests). Default "127.0.0.1:8008", reachable from this machine
	// only.
	Listen string `toml:"listen"`
	// TLSCert and TLSKey are PEM files for serving HTTPS. Set both or
	// neither. Default: neither, plain HTTP (for a laptop, or behind a
	// reverse proxy that terminates TLS).
	TLSCert string `toml:"tls_cert"`
	// TLSKey is the private key of TLSCert, a PEM file. Default empty.
	TLSKey string `toml:"tls_key"`
	// MaxBodyBytes bounds the body of every JSON request. Media uploads are
	// not JSON and have their own limit. It must be at least
	// Limits.MaxEventBytes so that any event a client may send fits in a
	// request. Default 1048576 (1 MiB): room for bulk key uploads and key
	// backups, well above any single event.
	MaxBodyBytes int64 `toml:"max_body_bytes"`
	// DisableCORS stops sending the CORS headers the spec requires on every
	// client API response. Web clients (Element Web) then cannot talk to the
	// server from another origin. Default false: CORS on.
	DisableCORS bool `toml:"disable_cors"`
}

// RegistrationMode is one of "closed", "token" or "open".
type RegistrationMode string

const (
	// RegistrationClosed: nobody registers through the client API; an
	// administrator creates accounts (hearth's admin commands, or shared
	// secret registration when SharedSecret is set).
	RegistrationClosed RegistrationMode = "closed"
	// RegistrationToken: registration needs a registration token
	// (m.login.registration_token) that an administrator handed out.
	RegistrationToken RegistrationMode = "token"
	// RegistrationOpen: anyone who can reach the client API can create an
	// account. Only for closed networks (a field unit's own Wi-Fi, a test);
	// on a reachable server it invites spam accounts.
	RegistrationOpen RegistrationMode = "open"
)

// RegistrationConfig is the [registration] table.
type RegistrationConfig struct {
	// Mode is who may register: "closed", "token" or "open" (see
	// RegistrationMode). Default "closed".
	Mode RegistrationMode `toml:"mode"`
	// SharedSecret turns on shared-secret registration: an administrator's
	// tool registers accounts with requests signed by HMAC-SHA1 over this
	// secret (the scheme of Synapse's /_synapse/admin/v1/register). It works
	// whatever Mode says. When set it must be at least 32 characters; keep
	// the file readable only by the server. Default empty: off.
	SharedSecret string `toml:"shared_secret"`
	// AllowLegacySingleRequest accepts the r0-era single request
	// registration, a POST /register that carries "auth": {"type":
	// "m.login.dummy"} without first obtaining a user-interactive auth
	// session. Old bots and scripts send that; the spec wants the session
	// round trip. Only allowed when Mode is "open" (it would otherwise have
	// no effect). Default false.
	AllowLegacySingleRequest bool `toml:"allow_legacy_single_request"`
}

// AuthConfig is the [auth] table.
type AuthConfig struct {
	// AccessTokenLifetime is how long an access token issued together with
	// a refresh token lives: clients that ask for one ("refresh_token":
	// true at login or registration) are told expires_in_ms and renew the
	// access token with /refresh before it runs out. Access tokens of
	// clients that do not ask for a refresh token do not expire; they end
	// at logout. Written as a duration string ("15m"). Default 0, meaning
	// DefaultRefreshableAccessTokenLifetime (30 minutes). See
	// AccessTokenExpiry.
	AccessTokenLifetime Duration `toml:"access_token_lifetime"`
	// RefreshTokenLifetime is how long an unused refresh token stays
	// usable; a device idle for longer must log in again. It must be longer
	// than the access tokens it renews (AccessTokenLifetime). Written as a duration string ("720h"). Default
	// 0: refresh tokens do not expire (each is still single-use).
	RefreshTokenLifetime Duration `toml:"refresh_token_lifetime"`
	// PasswordMinLength is the minimum length, in characters, of a new
	// password (registration, password change). Default 8.
	PasswordMinLength int `toml:"password_min_length"`
}

// RateLimit is a token bucket: PerSecond requests per second on average,
// with bursts of up to Burst requests.
type RateLimit struct {
	// PerSecond is the sustained rate; fractions are allowed (0.5 is one
	// request every two seconds). Zero means the default of the field that
	// holds this RateLimit.
	PerSecond float64 `toml:"per_second"`
	// Burst is how many requests may arrive at once after a quiet period.
	// Zero means the default of the field that holds this RateLimit.
	Burst int `toml:"burst"`
	// Disabled turns this limit off. Default false: limited.
	Disabled bool `toml:"disabled"`
}

// LimitsConfig is the [limits] table.
type LimitsConfig struct {
	// PerUser limits the requests of each authenticated user, all devices
	// together. Default 20 per second, burst 100: a client starting up
	// sends a few dozen requests at once.
	PerUser RateLimit `toml:"per_user"`
	// PerIP limits the requests from each client address, authenticated or
	// not (login and registration are only limited by this). Raise it where
	// many users share one address (NAT, a reverse proxy that is not
	// trusted to forward the client's address). Default 50 per second,
	// burst 200.
	PerIP RateLimit `toml:"per_ip"`
	// MaxLongPolls bounds the /sync requests waiting for new data at the
	// same time; further ones return at once with no new data, and the
	// client polls again. Each waiting request costs memory (a goroutine and
	// connection buffers). Default 10000.
	MaxLongPolls int `toml:"max_long_polls"`
	// MaxFilterBytes bounds a sync filter (POST /user/{id}/filter, or inline
	// in /sync?filter=) in bytes of JSON. Default 32768.
	MaxFilterBytes int `toml:"max_filter_bytes"`
	// MaxEventBytes bounds an event created by a local client, in bytes of
	// its canonical JSON with signatures. It cannot exceed 65536, the spec's
	// limit. A lower value only restricts local clients: events arriving
	// over federation are always held to the spec's limit, so that this
	// server never rejects an event that other servers accept. Default
	// 65536.
	MaxEventBytes int `toml:"max_event_bytes"`
	// MaxTimeoutMS caps the timeout a client asks for on /sync, in
	// milliseconds; longer requests are cut to this. Keep it below the idle
	// timeout of any proxy or NAT between clients and the server. At most
	// 600000 (10 minutes). Default 30000.
	MaxTimeoutMS int `toml:"max_timeout_ms"`
}

// PresenceConfig is the [presence] table.
type PresenceConfig struct {
	// Disabled turns presence (online/offline/unavailable status, "last
	// seen") off: clients can still set it but nobody receives it, and no
	// presence is sent over federation. Presence is the largest source of
	// federation traffic and tells others when a user is active. Default
	// false: presence on.
	Disabled bool `toml:"disabled"`
}

// StorageConfig is the [storage] table. Sizes are in MiB (1048576 bytes).
type StorageConfig struct {
	// MemTableMiB is the size of one Badger memtable (writes are collected
	// in up to two before they go to disk). Default 0: the storage package's
	// default, 8 MiB.
	MemTableMiB int `toml:"mem_table_mib"`
	// BlockCacheMiB is Badger's cache of data blocks read from disk.
	// Default 0: the storage package's default, 8 MiB.
	BlockCacheMiB int `toml:"block_cache_mib"`
	// IndexCacheMiB is Badger's cache of table indexes and bloom filters.
	// Default 0: the storage package's default, 8 MiB.
	IndexCacheMiB int `toml:"index_cache_mib"`
	// MemoryLimitMiB is the soft memory limit of the whole process
	// (runtime/debug.SetMemoryLimit, the same as GOMEMLIMIT): the garbage
	// collector works harder as the heap approaches it, so that bursts
	// (large batches, backups, compactions) do not push a small board into
	// the kernel's out-of-memory killer. At least 64. Default 300, for a
	// board with 1 GiB of RAM.
	MemoryLimitMiB int `toml:"memory_limit_mib"`
}

// FederationConfig is the [federation] table: talking to other Matrix
// servers (/_matrix/federation, /_matrix/key).
type FederationConfig struct {
	// Listen is the host:port of the federation listener, conventionally
	// ":8448". Empty turns federation off altogether: no listener and no
	// outbound requests to other servers, so rooms stay on this server.
	// Default empty: off.
	Listen string `toml:"listen"`
	// TLSCert and TLSKey are PEM files for the federation listener, whose
	// certificate must be valid for Server.Name (federation is HTTPS only).
	// Both are required when Listen is set. Default empty.
	TLSCert string `toml:"tls_cert"`
	// TLSKey is the private key of TLSCert, a PEM file. Default empty.
	TLSKey string `toml:"tls_key"`
	// ExtraCAFiles are PEM files of certificate authorities trusted for
	// outbound federation in addition to the system roots: the national
	// backbone's own CA, or a test CA. Default none.
	ExtraCAFiles []string `toml:"extra_ca_files"`
	// AllowPrivateNetworks lets the outbound dialer connect to loopback,
	// private, link-local and other non-public addresses. Off because a
	// remote server name (or a media URL) can resolve to addresses inside
	// the box's own network, turning the server into a proxy into the LAN.
	// Tests that run several servers on loopback set it. Default false.
	AllowPrivateNetworks bool `toml:"allow_private_networks"`
	// KeyValidity is how far ahead the valid_until_ts of this server's
	// published signing keys (/_matrix/key/v2/server) lies: how long other
	// servers may use a copy of the keys before fetching them again. Longer
	// helps a server that is often offline; shorter makes a key change
	// visible sooner. Other servers cap it at 7 days, so it may not be more
	// than 168h. Written as a duration string ("24h"). Default 24h.
	KeyValidity Duration `toml:"key_validity"`
}

// LogConfig is the [log] table.
type LogConfig struct {
	// Level is the least severe level logged: "debug", "info", "warn" or
	// "error". Default "info".
	Level string `toml:"level"`
	// Format is "text" (log/slog's key=value lines, for people) or "json"
	// (one JSON object per line, for log collectors). Default "text".
	Format string `toml:"format"`
}

package config

import (
	"net"
	"strconv"
	"strings"
	"time"

	"hearth/services/matrix/ids"
)

// The defaults that WithDefaults fills in. Each field's doc comment repeats
// its default; TestDefault keeps the two in step.
const (
	DefaultServerName     = "localhost"
	DefaultDataDir        = "./data"
	DefaultClientListen   = "127.0.0.1:8008"
	DefaultMaxBodyBytes   = 1 << 20
	DefaultRegistration   = RegistrationClosed
	DefaultPasswordMinLen = 8

	DefaultUserRate  = 20
	DefaultUserBurst = 100
	DefaultIPRate    = 50
	DefaultIPBurst   = 200

	DefaultMaxLongPolls   = 10000
	DefaultMaxFilterBytes = 32 << 10
	DefaultMaxTimeoutMS   = 30000
	DefaultMemoryLimitMiB = 300
	DefaultKeyValidity    = 24 * time.Hour
	DefaultLogLevel       = "info"
	DefaultLogFormat      = "text"

	// DefaultRefreshableAccessTokenLifetime is the lifetime of an access
	// token issued with a refresh token when Auth.AccessTokenLifetime is
	// zero. Short, because renewing is cheap for clients that can. The
	// users service has the same default.
	DefaultRefreshableAccessTokenLifetime = 30 * time.Minute
)

// Hard limits that no configuration can raise.
const (
	// MaxEventBytes is the spec's limit on the size of an event (a PDU),
	// and the default of Limits.MaxEventBytes.
	MaxEventBytes = 65536
	// MaxKeyValidity is the most other servers honour of a key's
	// valid_until_ts (the spec lets them cap it at 7 days).
	MaxKeyValidity = 7 * 24 * time.Hour
	// MaxSyncTimeoutMS is the largest Limits.MaxTimeoutMS allowed.
	MaxSyncTimeoutMS = 10 * 60 * 1000
	// MinSharedSecretLen is the shortest Registration.SharedSecret allowed.
	MinSharedSecretLen = 32
	// MinMemoryLimitMiB is the smallest Storage.MemoryLimitMiB allowed.
	MinMemoryLimitMiB = 64
	// maxMiB bounds the MiB fields so that converting them to bytes cannot
	// overflow (1 TiB).
	maxMiB = 1 << 20
)

// Default returns the configuration the server runs with when the file is
// empty: Config{}.WithDefaults().
func Default() Config { return Config{}.WithDefaults() }

// WithDefaults returns c with every zero field that has a default replaced
// by it, including the derived Server.PublicBaseURL. Fields whose zero value
// is itself the setting (a zero Auth.AccessTokenLifetime, an empty
// Federation.Listen, the storage sizes that the storage package defaults)
// stay zero. Non-zero fields are kept, valid or not. It is idempotent.
func (c Config) WithDefaults() Config {
	setDefault(&c.Server.Name, DefaultServerName)
	setDefault(&c.Server.DataDir, DefaultDataDir)
	setDefault(&c.Client.Listen, DefaultClientListen)
	setDefault(&c.Client.MaxBodyBytes, DefaultMaxBodyBytes)
	setDefault(&c.Registration.Mode, DefaultRegistration)
	setDefault(&c.Auth.PasswordMinLength, DefaultPasswordMinLen)
	setDefault(&c.Limits.PerUser.PerSecond, DefaultUserRate)
	setDefault(&c.Limits.PerUser.Burst, DefaultUserBurst)
	setDefault(&c.Limits.PerIP.PerSecond, DefaultIPRate)
	setDefault(&c.Limits.PerIP.Burst, DefaultIPBurst)
	setDefault(&c.Limits.MaxLongPolls, DefaultMaxLongPolls)
	setDefault(&c.Limits.MaxFilterBytes, DefaultMaxFilterBytes)
	setDefault(&c.Limits.MaxEventBytes, MaxEventBytes)
	setDefault(&c.Limits.MaxTimeoutMS, DefaultMaxTimeoutMS)
	setDefault(&c.Storage.MemoryLimitMiB, DefaultMemoryLimitMiB)
	setDefault(&c.Federation.KeyValidity, Duration(DefaultKeyValidity))
	setDefault(&c.Log.Level, DefaultLogLevel)
	setDefault(&c.Log.Format, DefaultLogFormat)
	if c.Server.PublicBaseURL == "" {
		c.Server.PublicBaseURL = derivePublicBaseURL(c.Server.Name, c.Client)
	}
	return c
}

func setDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}

// derivePublicBaseURL is the default of Server.PublicBaseURL, or "" when
// the listener (or, for an unspecified host, the server name) is invalid or
// the port is not known yet.
func derivePublicBaseURL(serverName string, cl ClientConfig) string {
	host, port, err := net.SplitHostPort(cl.Listen)
	if err != nil {
		return ""
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p > 65535 {
		return ""
	}
	if unspecifiedHost(host) {
		n, err := ids.ParseServerName(serverName)
		if err != nil {
			return ""
		}
		host = n.Host
	}
	scheme := "http"
	if cl.TLSCert != "" {
		scheme = "https"
	}
	hostPort := net.JoinHostPort(strings.ReplaceAll(host, "%", "%25"), port)
	if (scheme == "http" && p == 80) || (scheme == "https" && p == 443) {
		hostPort = strings.TrimSuffix(hostPort, ":"+port)
	}
	return scheme + "://" + hostPort
}

func unspecifiedHost(host string) bool {
	return host == "" || host == "0.0.0.0" || host == "::"
}

// AccessTokenExpiry is the lifetime of a new access token, 0 meaning that it
// does not expire. refreshable says whether the client asked for a refresh
// token; only such tokens expire.
func (a AuthConfig) AccessTokenExpiry(refreshable bool) time.Duration {
	switch {
	case !refreshable:
		return 0
	case a.AccessTokenLifetime != 0:
		return a.AccessTokenLifetime.Std()
	}
	return DefaultRefreshableAccessTokenLifetime
}

package users

import (
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"time"

	"hearth/services/matrix/ids"
)

// Options configures a Service. The zero value of every field but ServerName
// works and means the default given in its comment.
type Options struct {
	// ServerName is this homeserver's name, the domain of every user ID it
	// creates. Required.
	ServerName string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand is the source of tokens, salts and IDs; nil means crypto/rand.
	// It is read under a mutex, so it need not be safe for concurrent use.
	Rand io.Reader
	// Logger receives warnings; nil means slog.Default().
	Logger *slog.Logger

	// AccessTokenLifetime applies to access tokens issued together with a
	// refresh token; 0 means 30 minutes. Tokens issued to clients that do
	// not support refresh never expire.
	AccessTokenLifetime time.Duration
	// RefreshTokenLifetime bounds how long an unused refresh token stays
	// valid; 0 means it never expires (it is single-use anyway).
	RefreshTokenLifetime time.Duration
	// TokenCacheSize bounds the in-memory token → session map that makes
	// Authenticate fast; 0 means 10 000 entries.
	TokenCacheSize int

	// PasswordMinLength is the minimum password length in characters; 0
	// means 8, a negative value means no minimum.
	PasswordMinLength int
	// Argon2 sets the password hashing cost; the zero value means OWASP's
	// argon2id minimum (t=2, m=19 MiB, p=1). Tests use TestingArgon2().
	Argon2 Argon2Params
	// MaxConcurrentHashes bounds how many password hashes run at once (each
	// takes Argon2.MemoryKiB of RAM); 0 means 2.
	MaxConcurrentHashes int
	// HashesDone, if set, is called when the last running password hash
	// finishes: each hash leaves Argon2.MemoryKiB of garbage, which the
	// process may want to hand back to the OS. It must not block.
	HashesDone func()

	// MaxDevicesPerUser bounds the devices of one account; 0 means 500.
	MaxDevicesPerUser int
	// MaxAccountDataItems bounds the account data entries (global and per
	// room together) of one account; 0 means 10 000.
	MaxAccountDataItems int
	// MaxFiltersPerUser bounds stored filters per account; when full, the
	// oldest is replaced. 0 means 100.
	MaxFiltersPerUser int

	// UIASessionLifetime is how long a UIA session lives after Begin; 0
	// means 15 minutes.
	UIASessionLifetime time.Duration
	// MaxUIASessions bounds live UIA sessions; beyond it the oldest is
	// dropped. 0 means 1000.
	MaxUIASessions int

	// ReservedLocalparts are localparts nobody may register, in addition to
	// the built-in rules (see Register).
	ReservedLocalparts []string

	// OnAccountData, if set, is called after each committed account data
	// change with the user and the change's stream position, so /sync can
	// wake long polls. It must not block.
	OnAccountData func(userID string, pos uint64)
}

// Argon2Params are argon2id's cost parameters.
type Argon2Params struct {
	Time      uint32 // passes over memory
	MemoryKiB uint32 // memory in KiB
	Threads   uint8  // lanes
}

// TestingArgon2 returns parameters that make hashing nearly free. For tests
// only: a hash made with them is easy to brute-force.
func TestingArgon2() Argon2Params { return Argon2Params{Time: 1, MemoryKiB: 8, Threads: 1} }

// Defaults.
const (
	defaultAccessLifetime  = 30 * time.Minute
	defaultTokenCache      = 10000
	defaultPasswordMin     = 8
	defaultMaxHashes       = 2
	defaultMaxDevices      = 500
	defaultMaxAccountData  = 10000
	defaultMaxFilters      = 100
	defaultUIALifetime     = 15 * time.Minute
	defaultMaxUIASessions  = 1000
	maxArgon2MemoryKiB     = 1 << 20 // 1 GiB: more than the board has
	defaultArgon2Time      = 2
	defaultArgon2MemoryKiB = 19 * 1024
)

// withDefaults fills in zero fields and checks the rest, reporting every
// problem at once.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	if o.ServerName == "" {
		errs = append(errs, errors.New("users: Options.ServerName is required"))
	} else if !ids.ValidServerName(o.ServerName) {
		errs = append(errs, errors.New("users: Options.ServerName is not a valid server name"))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	if o.AccessTokenLifetime == 0 {
		o.AccessTokenLifetime = defaultAccessLifetime
	}
	if o.AccessTokenLifetime < 0 || o.RefreshTokenLifetime < 0 || o.UIASessionLifetime < 0 {
		errs = append(errs, errors.New("users: lifetimes must not be negative"))
	}
	if o.UIASessionLifetime == 0 {
		o.UIASessionLifetime = defaultUIALifetime
	}
	def(&o.TokenCacheSize, defaultTokenCache)
	def(&o.PasswordMinLength, defaultPasswordMin)
	def(&o.MaxConcurrentHashes, defaultMaxHashes)
	def(&o.MaxDevicesPerUser, defaultMaxDevices)
	def(&o.MaxAccountDataItems, defaultMaxAccountData)
	def(&o.MaxFiltersPerUser, defaultMaxFilters)
	def(&o.MaxUIASessions, defaultMaxUIASessions)
	for name, v := range map[string]int{
		"TokenCacheSize": o.TokenCacheSize, "MaxConcurrentHashes": o.MaxConcurrentHashes,
		"MaxDevicesPerUser": o.MaxDevicesPerUser, "MaxAccountDataItems": o.MaxAccountDataItems,
		"MaxFiltersPerUser": o.MaxFiltersPerUser, "MaxUIASessions": o.MaxUIASessions,
	} {
		if v < 0 {
			errs = append(errs, errors.New("users: Options."+name+" must not be negative"))
		}
	}
	if o.Argon2 == (Argon2Params{}) {
		o.Argon2 = Argon2Params{Time: defaultArgon2Time, MemoryKiB: defaultArgon2MemoryKiB, Threads: 1}
	}
	if err := o.Argon2.check(); err != nil {
		errs = append(errs, err)
	}
	return o, errors.Join(errs...)
}

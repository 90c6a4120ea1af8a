package queue

import (
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"hearth/services/matrix/ids"
	"hearth/services/storage"
)

// Options configures a Queue. DB, Origin and Sender are required; every
// other field's zero value means the default given in its comment.
type Options struct {
	// DB is the server's database. Required.
	DB *storage.DB
	// Origin is this server's name, the "origin" of every transaction.
	// Required. Enqueueing to Origin itself is silently skipped.
	Origin string
	// Sender delivers transactions. Required.
	Sender Sender
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// After waits for a duration on the same clock as Now; nil means
	// time.After. Tests pass a fake clock's After.
	After func(time.Duration) <-chan time.Time
	// Rand returns a number in [0, 1) for backoff jitter; nil means
	// math/rand/v2's Float64.
	Rand func() float64

	// MinBackoff is the delay after the first failed attempt, and the
	// shortest time between attempts when Wake is called; 0 means 2 s.
	MinBackoff time.Duration
	// MaxBackoff caps the doubling delay; 0 means 10 minutes.
	MaxBackoff time.Duration
	// SendTimeout bounds one SendTransaction call; 0 means 2 minutes.
	SendTimeout time.Duration
	// MaxPDUsPerTxn; 0 means 50, values above 50 are lowered to 50 (spec).
	MaxPDUsPerTxn int
	// MaxEDUsPerTxn; 0 means 100, values above 100 are lowered to 100 (spec).
	MaxEDUsPerTxn int
	// MaxInFlightDestinations bounds the worker goroutines, hence the
	// destinations being sent to at once; 0 means 16.
	MaxInFlightDestinations int
	// MaxQueuedPerDestination bounds the durable entries of one
	// destination; 0 means 100,000.
	MaxQueuedPerDestination int
	// VolatileTTL is how long a non-durable EDU (typing) stays worth
	// sending; 0 means 30 s.
	VolatileTTL time.Duration
}

// Hard limits, not configurable.
const (
	maxPDUBytes         = 65536 // spec: a PDU must not exceed 64 KiB
	maxEDUBytes         = 256 << 10
	maxTxnBytes         = 4 << 20 // a bigger transaction waits for the next one
	maxVolatilePerDest  = 1000    // in-memory EDUs per destination
	maxScanPerTxn       = 2000    // entries looked at to fill one transaction
	maxFailuresCounted  = 30      // doubling stops long before; keeps shifts sane
	specMaxPDUsPerTxn   = 50
	specMaxEDUsPerTxn   = 100
	defaultMinBackoff   = 2 * time.Second
	defaultMaxBackoff   = 10 * time.Minute
	defaultSendTimeout  = 2 * time.Minute
	defaultMaxInFlight  = 16
	defaultMaxQueued    = 100_000
	defaultVolatileTTL  = 30 * time.Second
	backoffJitterFactor = 0.25
)

// withDefaults checks the required fields and fills in the defaults.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	if o.DB == nil {
		errs = append(errs, errors.New("queue: Options.DB is required"))
	}
	if !ids.ValidServerName(o.Origin) {
		errs = append(errs, errors.New("queue: Options.Origin must be a server name"))
	}
	if o.Sender == nil {
		errs = append(errs, errors.New("queue: Options.Sender is required"))
	}
	if len(errs) > 0 {
		return o, errors.Join(errs...)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	o.MinBackoff = durOr(o.MinBackoff, defaultMinBackoff)
	o.MaxBackoff = durOr(o.MaxBackoff, defaultMaxBackoff)
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	o.SendTimeout = durOr(o.SendTimeout, defaultSendTimeout)
	o.VolatileTTL = durOr(o.VolatileTTL, defaultVolatileTTL)
	o.MaxPDUsPerTxn = intIn(o.MaxPDUsPerTxn, specMaxPDUsPerTxn, specMaxPDUsPerTxn)
	o.MaxEDUsPerTxn = intIn(o.MaxEDUsPerTxn, specMaxEDUsPerTxn, specMaxEDUsPerTxn)
	o.MaxInFlightDestinations = intIn(o.MaxInFlightDestinations, defaultMaxInFlight, 1<<16)
	o.MaxQueuedPerDestination = intIn(o.MaxQueuedPerDestination, defaultMaxQueued, 1<<30)
	return o, nil
}

func durOr(v, def time.Duration) time.Duration {
	if v <= 0 {
		return def
	}
	return v
}

// intIn is v, or def when v <= 0, lowered to max.
func intIn(v, def, max int) int {
	if v <= 0 {
		v = def
	}
	return min(v, max)
}

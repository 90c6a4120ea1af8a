package config

import (
	"fmt"
	"time"
)

// Duration is a time.Duration written in the TOML file as a string in Go's
// duration syntax (time.ParseDuration): "90s", "15m", "24h", "1h30m". There
// is no unit for days; write "168h" for a week. A bare number is an error,
// because "30" could mean seconds or milliseconds.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d like time.Duration ("24h0m0s").
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes d in the syntax UnmarshalText reads.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a duration string.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf("invalid duration %s: want a number with a unit, such as \"30s\", \"15m\" or \"24h\"", quote(string(text)))
	}
	*d = Duration(v)
	return nil
}

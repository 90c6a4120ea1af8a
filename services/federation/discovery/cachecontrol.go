package discovery

import (
	"strings"
	"time"
)

const (
	// defaultTTL applies to a valid well-known answer without max-age.
	defaultTTL = 24 * time.Hour
	// maxTTL and minTTL bound the time a valid answer is kept.
	maxTTL = 48 * time.Hour
	minTTL = 5 * time.Minute
)

// successTTL returns how long to keep a valid well-known answer given its
// Cache-Control header (all lines joined with ","), clamped to [minTTL,
// maxTTL].
func successTTL(cacheControl string) time.Duration {
	ttl := defaultTTL
	if age, ok := maxAge(cacheControl); ok {
		ttl = age
	}
	return min(max(ttl, minTTL), maxTTL)
}

// maxAge reads a Cache-Control header: no-store or no-cache mean 0, else the
// first well-formed max-age directive (token or quoted-string form, RFC 9111
// section 5.2). ok is false when the header says neither.
func maxAge(header string) (age time.Duration, ok bool) {
	found := false
	for directive := range strings.SplitSeq(header, ",") {
		name, value, hasValue := strings.Cut(strings.TrimSpace(directive), "=")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "no-store", "no-cache":
			return 0, true
		case "max-age":
			if found || !hasValue {
				continue
			}
			if secs, ok := parseSeconds(strings.TrimSpace(value)); ok {
				age, found = secs, true
			}
		}
	}
	return age, found
}

// parseSeconds parses delta-seconds, optionally quoted. Values past maxTTL
// are read as maxTTL, so no overflow is possible.
func parseSeconds(s string) (time.Duration, bool) {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	if s == "" {
		return 0, false
	}
	const limit = int64(maxTTL / time.Second)
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n <= limit {
			n = n*10 + int64(c-'0')
		}
	}
	return time.Duration(min(n, limit)) * time.Second, true
}

package config

import (
	"errors"
	"math"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"hearth/services/matrix/ids"
)

// Validate checks the configuration as the server will use it, that is
// c.WithDefaults(), so a zero field is never a problem. It returns nil or a
// *Problems holding every problem found, each with the dotted TOML path of
// its key. It does no I/O: that the files named exist and hold what they
// should is found out when the server starts.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var ps Problems
	c.Server.validate(&ps)
	c.Client.validate(&ps, c.Limits)
	c.Registration.validate(&ps)
	c.Auth.validate(&ps)
	c.Limits.validate(&ps)
	c.Storage.validate(&ps)
	c.Federation.validate(&ps, c.Client)
	c.Log.validate(&ps)
	return ps.err()
}

func (s ServerConfig) validate(ps *Problems) {
	if _, err := ids.ParseServerName(s.Name); err != nil {
		reason := err.Error()
		var e *ids.Error
		if errors.As(err, &e) {
			reason = e.Reason
		}
		ps.add("server.name", "%s is not a server name (%s): want host[:port], the host a DNS name, an IPv4 address or an [IPv6] address", quote(s.Name), reason)
	}
	// An empty PublicBaseURL after WithDefaults means it could not be
	// derived: client.listen or server.name is wrong (reported there), or
	// the listener's port is 0 and the server fills the URL in.
	if s.PublicBaseURL != "" {
		if msg := checkBaseURL(s.PublicBaseURL); msg != "" {
			ps.add("server.public_base_url", "%s", msg)
		}
	}
	if strings.ContainsRune(s.DataDir, 0) {
		ps.add("server.data_dir", "contains a NUL byte")
	}
}

func checkBaseURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return quote(s) + " is not a URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return quote(s) + ": want an http:// or https:// URL"
	case u.Host == "" || u.Hostname() == "":
		return quote(s) + ": has no host"
	case u.User != nil:
		return quote(s) + ": must not contain a user name or password"
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return quote(s) + ": must not have a query or fragment"
	}
	if p := u.Port(); p != "" {
		if _, ok := parsePort(p); !ok {
			return quote(s) + ": invalid port"
		}
	}
	return ""
}

func (cl ClientConfig) validate(ps *Problems, lim LimitsConfig) {
	checkListen(ps, "client.listen", cl.Listen)
	checkPair(ps, "client", cl.TLSCert, cl.TLSKey)
	switch {
	case cl.MaxBodyBytes < 0:
		ps.add("client.max_body_bytes", "must be positive")
	case lim.MaxEventBytes > 0 && cl.MaxBodyBytes < int64(lim.MaxEventBytes):
		ps.add("client.max_body_bytes", "must be at least limits.max_event_bytes (%d), or a client cannot send the largest event allowed", lim.MaxEventBytes)
	}
}

// checkListen checks a host:port listen address. The host may be empty (all
// addresses), an IP address or a host name; the port is a number, 0 meaning
// any free port.
func checkListen(ps *Problems, path, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		ps.add(path, "%s is not host:port (write \":8008\" for every address, \"[::1]:8008\" for IPv6)", quote(addr))
		return
	}
	if _, ok := parsePort(port); !ok {
		ps.add(path, "%s: port must be a number from 0 to 65535", quote(addr))
	}
	if host != "" && !validListenHost(host) {
		ps.add(path, "%s: host must be an IP address or a host name", quote(addr))
	}
}

func parsePort(s string) (int, bool) {
	if s == "" || len(s) > 5 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	p, err := strconv.Atoi(s)
	return p, err == nil && p <= 65535
}

func validListenHost(host string) bool {
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	if len(host) > 253 {
		return false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// checkPair reports a TLS certificate without its key or the other way
// round.
func checkPair(ps *Problems, table, cert, key string) {
	switch {
	case cert != "" && key == "":
		ps.add(table+".tls_key", "must be set when %s.tls_cert is", table)
	case cert == "" && key != "":
		ps.add(table+".tls_cert", "must be set when %s.tls_key is", table)
	}
}

func (r RegistrationConfig) validate(ps *Problems) {
	switch r.Mode {
	case RegistrationClosed, RegistrationToken, RegistrationOpen:
	default:
		ps.add("registration.mode", "%s: want \"closed\", \"token\" or \"open\"", quote(string(r.Mode)))
	}
	// The secret itself never goes into a message.
	if n := utf8.RuneCountInString(r.SharedSecret); n > 0 && n < MinSharedSecretLen {
		ps.add("registration.shared_secret", "must be at least %d characters long (has %d); generate one with: head -c 32 /dev/urandom | base64", MinSharedSecretLen, n)
	}
	if r.AllowLegacySingleRequest && r.Mode != RegistrationOpen {
		ps.add("registration.allow_legacy_single_request", "only applies when registration.mode is \"open\" (it is %s)", quote(string(r.Mode)))
	}
}

func (a AuthConfig) validate(ps *Problems) {
	if a.AccessTokenLifetime < 0 {
		ps.add("auth.access_token_lifetime", "must not be negative")
	}
	switch access := a.AccessTokenExpiry(true); {
	case a.RefreshTokenLifetime < 0:
		ps.add("auth.refresh_token_lifetime", "must not be negative")
	case a.RefreshTokenLifetime > 0 && access > 0 && a.RefreshTokenLifetime.Std() <= access:
		ps.add("auth.refresh_token_lifetime", "must be longer than the access token lifetime (%v, from auth.access_token_lifetime)", access)
	}
	if a.PasswordMinLength < 0 {
		ps.add("auth.password_min_length", "must not be negative")
	}
}

func (l LimitsConfig) validate(ps *Problems) {
	checkRate(ps, "limits.per_user", l.PerUser)
	checkRate(ps, "limits.per_ip", l.PerIP)
	if l.MaxLongPolls < 0 {
		ps.add("limits.max_long_polls", "must be positive")
	}
	if l.MaxFilterBytes < 0 {
		ps.add("limits.max_filter_bytes", "must be positive")
	}
	switch {
	case l.MaxEventBytes < 0:
		ps.add("limits.max_event_bytes", "must be positive")
	case l.MaxEventBytes > MaxEventBytes:
		ps.add("limits.max_event_bytes", "must be at most %d, the spec's limit on events", MaxEventBytes)
	}
	switch {
	case l.MaxTimeoutMS < 0:
		ps.add("limits.max_timeout_ms", "must be positive")
	case l.MaxTimeoutMS > MaxSyncTimeoutMS:
		ps.add("limits.max_timeout_ms", "must be at most %d (10 minutes)", MaxSyncTimeoutMS)
	}
}

func checkRate(ps *Problems, path string, r RateLimit) {
	// Checked even when Disabled, so that turning a limit back on cannot
	// reveal a broken value.
	if !(r.PerSecond > 0) || math.IsInf(r.PerSecond, 0) {
		ps.add(path+".per_second", "must be a positive number")
	}
	if r.Burst < 0 {
		ps.add(path+".burst", "must be positive")
	}
}

func (s StorageConfig) validate(ps *Problems) {
	for _, f := range []struct {
		key string
		v   int
	}{
		{"mem_table_mib", s.MemTableMiB},
		{"block_cache_mib", s.BlockCacheMiB},
		{"index_cache_mib", s.IndexCacheMiB},
		{"memory_limit_mib", s.MemoryLimitMiB},
	} {
		switch {
		case f.v < 0:
			ps.add("storage."+f.key, "must not be negative")
		case f.v > maxMiB:
			ps.add("storage."+f.key, "must be at most %d (1 TiB)", maxMiB)
		case f.key == "memory_limit_mib" && f.v < MinMemoryLimitMiB:
			ps.add("storage."+f.key, "must be at least %d; the value is in MiB", MinMemoryLimitMiB)
		}
	}
}

func (f FederationConfig) validate(ps *Problems, cl ClientConfig) {
	if f.Listen != "" {
		checkListen(ps, "federation.listen", f.Listen)
		if sameListener(f.Listen, cl.Listen) {
			ps.add("federation.listen", "%s clashes with client.listen %s: use another port", quote(f.Listen), quote(cl.Listen))
		}
		if f.TLSCert == "" && f.TLSKey == "" {
			ps.add("federation.tls_cert", "must be set when federation.listen is: federation is HTTPS only")
			ps.add("federation.tls_key", "must be set when federation.listen is: federation is HTTPS only")
		}
	}
	checkPair(ps, "federation", f.TLSCert, f.TLSKey)
	for i, name := range f.ExtraCAFiles {
		if name == "" {
			ps.add("federation.extra_ca_files["+strconv.Itoa(i)+"]", "empty file name")
		}
	}
	switch {
	case f.KeyValidity < 0:
		ps.add("federation.key_validity", "must be positive")
	case f.KeyValidity.Std() > MaxKeyValidity:
		ps.add("federation.key_validity", "must be at most 168h: other servers do not trust keys for longer than 7 days")
	}
}

// sameListener reports whether two valid listen addresses would bind the
// same port on an overlapping address. Port 0 never clashes.
func sameListener(a, b string) bool {
	ha, pa, errA := net.SplitHostPort(a)
	hb, pb, errB := net.SplitHostPort(b)
	if errA != nil || errB != nil {
		return false
	}
	na, okA := parsePort(pa)
	nb, okB := parsePort(pb)
	if !okA || !okB || na == 0 || na != nb {
		return false
	}
	return ha == hb || unspecifiedHost(ha) || unspecifiedHost(hb)
}

func (l LogConfig) validate(ps *Problems) {
	switch l.Level {
	case "debug", "info", "warn", "error":
	default:
		ps.add("log.level", "%s: want \"debug\", \"info\", \"warn\" or \"error\"", quote(l.Level))
	}
	switch l.Format {
	case "text", "json":
	default:
		ps.add("log.format", "%s: want \"text\" or \"json\"", quote(l.Format))
	}
}

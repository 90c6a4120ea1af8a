package ids

import (
	"net/netip"
	"strconv"
	"strings"
)

// HostKind says which of the three hostname forms of the server name grammar
// a ServerName uses. The zero value is not a valid kind, so a zero ServerName
// is recognisably unparsed.
type HostKind uint8

const (
	// HostDNS is a dns-name: letters, digits, '-' and '.'.
	HostDNS HostKind = iota + 1
	// HostIPv4 is a dotted-quad IPv4 literal.
	HostIPv4
	// HostIPv6 is an IPv6 literal, written in brackets in the server name.
	HostIPv6
)

func (k HostKind) String() string {
	switch k {
	case HostDNS:
		return "dns"
	case HostIPv4:
		return "ipv4"
	case HostIPv6:
		return "ipv6"
	}
	return "invalid"
}

const (
	// maxHostLen is the dns-name limit (1*255dns-char). IPv4 and IPv6
	// literals are far shorter.
	maxHostLen = 255
	// maxServerNameLen bounds the whole server name: a 255-byte host,
	// ':' and a five-digit port.
	maxServerNameLen = maxHostLen + 1 + 5
	// IPv6address = 2*45IPv6char.
	minIPv6Len, maxIPv6Len = 2, 45
)

// ServerName is a parsed server name (spec appendices, "Server Name"):
//
//	server_name = hostname [ ":" port ]
//	hostname    = IPv4address / "[" IPv6address "]" / dns-name
//
// Host is the hostname exactly as written, without the brackets of an IPv6
// literal. Port is 0 when the server name has no explicit port. Server names
// are case-sensitive in Matrix, so Host is never lower-cased.
type ServerName struct {
	Host string
	Port int
	Kind HostKind
}

// String returns the server name in its wire form. For a value returned by
// ParseServerName it is exactly the parsed input.
func (n ServerName) String() string {
	host := n.Host
	if n.Kind == HostIPv6 {
		host = "[" + host + "]"
	}
	if n.Port == 0 {
		return host
	}
	return host + ":" + strconv.Itoa(n.Port)
}

// ParseServerName parses and validates a server name.
//
// Beyond the ABNF, it resolves these points (see the package tests):
//
//   - The port must be 1..65535 and written without leading zeros. The ABNF
//     allows "08448", but server names are compared byte-wise, so
//     "example.org:08448" would be a second name for "example.org:8448".
//   - A hostname made only of digits and dots must be a dotted-quad IPv4
//     literal with octets 0..255 and no leading zeros. The ABNF would let
//     "1.2.3" or "999.1.1.1" through as dns-names, but RFC 1123 section 2.1,
//     which the spec cites, rules out numeric host names, and many resolvers
//     read such strings (and zero-padded octets, as octal) as addresses.
//   - An IPv6 literal must be an IPv6 address per RFC 3513 (checked with
//     net/netip) and may not carry a zone; a bracketed IPv4 address is
//     rejected.
//   - DNS label structure (no empty labels, no leading '-') is only a SHOULD
//     in the spec and is not enforced: rejecting such names could make this
//     server refuse events that other servers accept.
func ParseServerName(s string) (ServerName, error) {
	n, reason := parseServerName(s)
	if reason != "" {
		return ServerName{}, invalid("server name", reason)
	}
	return n, nil
}

// ValidServerName reports whether s is a valid server name.
func ValidServerName(s string) bool {
	_, reason := parseServerName(s)
	return reason == ""
}

// parseServerName does the work of ParseServerName, returning a reason
// string instead of an error so that identifier parsers can embed it without
// allocating twice.
func parseServerName(s string) (ServerName, string) {
	if s == "" {
		return ServerName{}, "empty"
	}
	if len(s) > maxServerNameLen {
		return ServerName{}, "too long"
	}
	var (
		n        ServerName
		portText string
		hasPort  bool
	)
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return ServerName{}, "unterminated IPv6 literal"
		}
		n.Host, n.Kind = s[1:end], HostIPv6
		if rest := s[end+1:]; rest != "" {
			if rest[0] != ':' {
				return ServerName{}, "unexpected characters after IPv6 literal"
			}
			portText, hasPort = rest[1:], true
		}
		if reason := checkIPv6(n.Host); reason != "" {
			return ServerName{}, reason
		}
	} else {
		n.Host = s
		if colon := strings.IndexByte(s, ':'); colon >= 0 {
			n.Host, portText, hasPort = s[:colon], s[colon+1:], true
		}
		kind, reason := checkHost(n.Host)
		if reason != "" {
			return ServerName{}, reason
		}
		n.Kind = kind
	}
	if hasPort {
		port, reason := parsePort(portText)
		if reason != "" {
			return ServerName{}, reason
		}
		n.Port = port
	}
	return n, ""
}

// checkHost validates an unbracketed hostname and says whether it is an IPv4
// literal or a dns-name.
func checkHost(h string) (HostKind, string) {
	if h == "" {
		return 0, "empty hostname"
	}
	if len(h) > maxHostLen {
		return 0, "hostname longer than 255 characters"
	}
	numeric := true
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c == '.' || '0' <= c && c <= '9':
		case c == '-' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			numeric = false
		default:
			return 0, "hostname contains disallowed character " + quoteByteAt(h, i)
		}
	}
	if !numeric {
		return HostDNS, ""
	}
	if reason := checkIPv4(h); reason != "" {
		return 0, reason
	}
	return HostIPv4, ""
}

// checkIPv4 validates a hostname made only of digits and dots as a strict
// dotted quad.
func checkIPv4(h string) string {
	octets := 0
	for start := 0; start <= len(h); {
		end := start
		for end < len(h) && h[end] != '.' {
			end++
		}
		field := h[start:end]
		octets++
		switch {
		case octets > 4:
			return "IPv4 literal has more than four octets"
		case field == "":
			return "IPv4 literal has an empty octet"
		case len(field) > 3:
			return "IPv4 octet longer than three digits"
		case len(field) > 1 && field[0] == '0':
			return "IPv4 octet has a leading zero"
		}
		v := 0
		for i := 0; i < len(field); i++ {
			v = v*10 + int(field[i]-'0')
		}
		if v > 255 {
			return "IPv4 octet out of range"
		}
		start = end + 1
	}
	if octets != 4 {
		return "IPv4 literal has fewer than four octets"
	}
	return ""
}

// checkIPv6 validates the text between the brackets of an IPv6 literal. The
// character set and length are checked first (IPv6address = 2*45IPv6char), so
// netip only ever sees short, plain input.
func checkIPv6(h string) string {
	if len(h) < minIPv6Len || len(h) > maxIPv6Len {
		return "IPv6 literal has the wrong length"
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F', c == ':', c == '.':
		default:
			return "IPv6 literal contains disallowed character " + quoteByteAt(h, i)
		}
	}
	addr, err := netip.ParseAddr(h)
	if err != nil || !addr.Is6() || addr.Zone() != "" {
		return "malformed IPv6 literal"
	}
	return ""
}

// parsePort parses port = 1*5DIGIT, additionally requiring 1..65535 and no
// leading zero.
func parsePort(p string) (int, string) {
	if p == "" {
		return 0, "empty port"
	}
	if len(p) > 5 {
		return 0, "port longer than five digits"
	}
	v := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c < '0' || c > '9' {
			return 0, "port contains non-digit " + quoteByteAt(p, i)
		}
		v = v*10 + int(c-'0')
	}
	if v == 0 {
		return 0, "port 0"
	}
	if p[0] == '0' {
		return 0, "port has a leading zero"
	}
	if v > 65535 {
		return 0, "port out of range"
	}
	return v, ""
}

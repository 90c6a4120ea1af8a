package transport

import "net/netip"

// Refused IPv4 ranges: everything that is not global unicast (RFC 6890 and
// its updates). 240.0.0.0/4 includes the limited broadcast address.
var refusedV4 = [...]netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network", unspecified
	netip.MustParsePrefix("10.0.0.0/8"),      // RFC 1918
	netip.MustParsePrefix("100.64.0.0/10"),   // CGNAT shared space
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback
	netip.MustParsePrefix("169.254.0.0/16"),  // link-local (cloud metadata)
	netip.MustParsePrefix("172.16.0.0/12"),   // RFC 1918
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1
	netip.MustParsePrefix("192.88.99.0/24"),  // deprecated 6to4 relay anycast
	netip.MustParsePrefix("192.168.0.0/16"),  // RFC 1918
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
	netip.MustParsePrefix("224.0.0.0/4"),     // multicast
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
}

var (
	// globalV6 is the only IPv6 unicast space in use on the Internet; every
	// other IPv6 address (unspecified, loopback, IPv4-compatible ::/96,
	// discard 100::/64, unique-local fc00::/7, link-local fe80::/10,
	// site-local fec0::/10, multicast ff00::/8, ...) is refused, except
	// NAT64 below.
	globalV6 = netip.MustParsePrefix("2000::/3")
	// refusedV6 are the non-public ranges inside 2000::/3.
	refusedV6 = [...]netip.Prefix{
		netip.MustParsePrefix("2001::/23"),     // IETF protocol assignments, incl. Teredo 2001::/32
		netip.MustParsePrefix("2001:db8::/32"), // documentation
		netip.MustParsePrefix("3fff::/20"),     // documentation (RFC 9637)
		netip.MustParsePrefix("3ffe::/16"),     // old 6bone, returned
	}
	// nat64 (RFC 6052 well-known prefix) carries an IPv4 address in its last
	// 32 bits; it is as public as that address. The local-use prefix
	// 64:ff9b:1::/48 is outside 2000::/3 and so refused.
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
	// sixToFour (RFC 3056) carries an IPv4 address in bits 16 to 47.
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// IsPublic reports whether a is a public unicast address that Hearth may
// connect to on a stranger's say-so. An address with a zone, an
// IPv4-mapped address whose IPv4 address is not public, and a NAT64 or 6to4
// address embedding a non-public IPv4 address are not public.
func IsPublic(a netip.Addr) bool {
	if !a.IsValid() || a.Zone() != "" {
		return false
	}
	if a.Is4In6() {
		a = a.Unmap()
	}
	if a.Is4() {
		return publicV4(a)
	}
	switch {
	case nat64.Contains(a):
		b := a.As16()
		return publicV4(netip.AddrFrom4([4]byte(b[12:16])))
	case !globalV6.Contains(a):
		return false
	case sixToFour.Contains(a):
		b := a.As16()
		return publicV4(netip.AddrFrom4([4]byte(b[2:6])))
	}
	for _, p := range refusedV6 {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

func publicV4(a netip.Addr) bool {
	for _, p := range refusedV4 {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

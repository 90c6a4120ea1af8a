package transport

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
)

// FuzzIsPublic checks that no encoding of an IPv4 address is more public
// than the address itself: the IPv4-mapped, IPv4-compatible, NAT64 and 6to4
// forms.
func FuzzIsPublic(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "8.8.8.8", "10.1.2.3", "169.254.169.254", "100.64.0.1", "224.0.0.1"} {
		f.Add(binary.BigEndian.Uint32(netip.MustParseAddr(s).AsSlice()))
	}
	f.Fuzz(func(t *testing.T, n uint32) {
		var v4 [4]byte
		binary.BigEndian.PutUint32(v4[:], n)
		a := netip.AddrFrom4(v4)
		public := IsPublic(a)
		forms := map[string][16]byte{
			"mapped":     netip.AddrFrom16(a.As16()).As16(),
			"compatible": {12: v4[0], 13: v4[1], 14: v4[2], 15: v4[3]},
			"nat64":      {0: 0x00, 1: 0x64, 2: 0xff, 3: 0x9b, 12: v4[0], 13: v4[1], 14: v4[2], 15: v4[3]},
			"6to4":       {0: 0x20, 1: 0x02, 2: v4[0], 3: v4[1], 4: v4[2], 5: v4[3], 15: 1},
		}
		for name, b := range forms {
			if IsPublic(netip.AddrFrom16(b)) && !public {
				t.Errorf("%s form %s of non-public %s is public", name, netip.AddrFrom16(b), a)
			}
		}
	})
}

// listResolver answers every name with the addresses packed in raw, 16
// bytes each.
type listResolver []byte

func (raw listResolver) LookupIPAddr(context.Context, string) ([]net.IPAddr, error) {
	var out []net.IPAddr
	for i := 0; i+16 <= len(raw); i += 16 {
		out = append(out, net.IPAddr{IP: net.IP(raw[i : i+16])})
	}
	return out, nil
}

// FuzzVetted feeds arbitrary host names and resolver answers to the
// dialer's vetting: it must never hand back a non-public address.
func FuzzVetted(f *testing.F) {
	f.Add("hs1.test", []byte(net.ParseIP("127.0.0.1")))
	f.Add("2130706433", []byte(net.ParseIP("8.8.8.8")))
	f.Add("::ffff:127.0.0.1", []byte{})
	f.Fuzz(func(t *testing.T, host string, raw []byte) {
		d := NewDialer(DialerOptions{Resolver: listResolver(raw), Logger: quietLogger()})
		for _, network := range []string{"tcp", "tcp4", "tcp6"} {
			ips, err := d.vetted(context.Background(), network, host)
			if err != nil {
				continue
			}
			if len(ips) == 0 || len(ips) > maxAddrsPerHost {
				t.Fatalf("vetted(%q) = %v, nil", host, ips)
			}
			for _, ip := range ips {
				if !IsPublic(ip) {
					t.Fatalf("vetted(%q) returned non-public %s", host, ip)
				}
			}
		}
	})
}

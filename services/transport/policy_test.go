package transport

import (
	"net/netip"
	"testing"
)

func TestIsPublicRefused(t *testing.T) {
	refused := []string{
		// IPv4
		"0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "100.64.0.1", "100.127.255.254",
		"127.0.0.1", "127.255.255.254", "169.254.169.254", "169.254.0.1", "172.16.0.1",
		"172.31.255.255", "192.0.0.1", "192.0.0.170", "192.0.2.1", "192.88.99.1", "192.168.0.1",
		"192.168.255.255", "198.18.0.1", "198.19.255.255", "198.51.100.7", "203.0.113.9",
		"224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
		// IPv6
		"::", "::1", "fe80::1", "febf::1", "fc00::1", "fd12:3456::1", "fec0::1", "feff::1",
		"ff02::1", "ff0e::1", "100::1", "2001:db8::1", "2001::1", "2001:0:4136:e378::1",
		"2001:10::1", "3fff::1", "3ffe::1", "5f00::1", "64:ff9b:1::a00:1", "4000::1",
		// IPv4-mapped forms
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:0.0.0.0",
		"::ffff:7f00:1", "::ffff:192.168.1.1",
		// IPv4-compatible forms (deprecated ::/96)
		"::127.0.0.1", "::10.0.0.1", "::8.8.8.8",
		// NAT64 with a refused IPv4 inside
		"64:ff9b::127.0.0.1", "64:ff9b::a00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::c0a8:101",
		// 6to4 with a refused IPv4 inside
		"2002:7f00:1::", "2002:a00:1::1", "2002:a9fe:a9fe::1", "2002:c0a8:101::1", "2002::1",
		// Zones
		"fe80::1%eth0", "2a00:1450:4001::1%eth0",
	}
	for _, s := range refused {
		if IsPublic(netip.MustParseAddr(s)) {
			t.Errorf("IsPublic(%s) = true, want false", s)
		}
	}
	if IsPublic(netip.Addr{}) {
		t.Error("IsPublic(zero Addr) = true")
	}
	if len(refused) < 50 {
		t.Errorf("only %d refused forms; reliability goal S6 wants at least 50", len(refused))
	}
}

func TestIsPublicAllowed(t *testing.T) {
	allowed := []string{
		"1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.1", "100.63.255.255", "100.128.0.1",
		"126.255.255.255", "128.0.0.1", "169.253.255.255", "172.15.255.255", "172.32.0.1",
		"192.0.1.1", "192.167.255.255", "198.17.255.255", "198.20.0.1", "223.255.255.255",
		"2a00:1450:4001:80b::200e", "2606:4700::1111", "2001:4860:4860::8888", "2001:200::1",
		"::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1", "3000::1",
	}
	for _, s := range allowed {
		if !IsPublic(netip.MustParseAddr(s)) {
			t.Errorf("IsPublic(%s) = false, want true", s)
		}
	}
}

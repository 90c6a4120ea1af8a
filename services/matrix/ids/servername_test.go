package ids

import (
	"strings"
	"testing"
)

func TestParseServerNameAccept(t *testing.T) {
	tests := []struct {
		in   string
		host string
		port int
		kind HostKind
	}{
		// The spec's examples.
		{"matrix.org", "matrix.org", 0, HostDNS},
		{"matrix.org:8888", "matrix.org", 8888, HostDNS},
		{"1.2.3.4", "1.2.3.4", 0, HostIPv4},
		{"1.2.3.4:1234", "1.2.3.4", 1234, HostIPv4},
		{"[1234:5678::abcd]", "1234:5678::abcd", 0, HostIPv6},
		{"[1234:5678::abcd]:5678", "1234:5678::abcd", 5678, HostIPv6},
		{"[1234:5678::abcd]:8448", "1234:5678::abcd", 8448, HostIPv6},
		// Others.
		{"localhost", "localhost", 0, HostDNS},
		{"localhost:1", "localhost", 1, HostDNS},
		{"example.org:65535", "example.org", 65535, HostDNS},
		{"MATRIX.ORG", "MATRIX.ORG", 0, HostDNS}, // case is kept
		{"a-b.c-d", "a-b.c-d", 0, HostDNS},
		{"x", "x", 0, HostDNS},
		{"1.2.3.4a", "1.2.3.4a", 0, HostDNS},
		{"123abc", "123abc", 0, HostDNS},
		{"-.", "-.", 0, HostDNS}, // label rules are only a SHOULD
		{"0.0.0.0", "0.0.0.0", 0, HostIPv4},
		{"255.255.255.255:443", "255.255.255.255", 443, HostIPv4},
		{"[::1]", "::1", 0, HostIPv6},
		{"[::]:8448", "::", 8448, HostIPv6},
		{"[::ffff:1.2.3.4]", "::ffff:1.2.3.4", 0, HostIPv6},
		{"[ABCD:EF01::1]", "ABCD:EF01::1", 0, HostIPv6},
		{"[1:2:3:4:5:6:7:8]", "1:2:3:4:5:6:7:8", 0, HostIPv6},
		{"[0000:0000:0000:0000:0000:ffff:255.255.255.255]", "0000:0000:0000:0000:0000:ffff:255.255.255.255", 0, HostIPv6}, // 45 chars
		{strings.Repeat("a", 255), strings.Repeat("a", 255), 0, HostDNS},
		{strings.Repeat("a", 255) + ":65535", strings.Repeat("a", 255), 65535, HostDNS},
	}
	for _, tt := range tests {
		n, err := ParseServerName(tt.in)
		if err != nil {
			t.Errorf("ParseServerName(%q): %v", tt.in, err)
			continue
		}
		if n.Host != tt.host || n.Port != tt.port || n.Kind != tt.kind {
			t.Errorf("ParseServerName(%q) = %+v, want host %q port %d kind %v", tt.in, n, tt.host, tt.port, tt.kind)
		}
		if got := n.String(); got != tt.in {
			t.Errorf("ParseServerName(%q).String() = %q", tt.in, got)
		}
		if !ValidServerName(tt.in) {
			t.Errorf("ValidServerName(%q) = false", tt.in)
		}
	}
}

func TestParseServerNameReject(t *testing.T) {
	tests := []string{
		"",
		":8448",
		"example.org:",
		"example.org:0",
		"example.org:65536",
		"example.org:99999",
		"example.org:123456",
		"example.org:08448", // leading zero: non-canonical
		"example.org:-1",
		"example.org:+80",
		"example.org:80a",
		"example.org:80:80",
		"example.org: 80",
		"exa mple.org",
		"example_org",
		"example.org/",
		"user@example.org",
		"ex\x00ample.org",
		"example.org\n",
		"\texample.org",
		"exämple.org",
		"例子.测试",
		"xn--\u200b.org",
		"\xff",
		strings.Repeat("a", 256),
		strings.Repeat("a", 256) + ":80",
		strings.Repeat("a", 300),
		// Numeric hosts must be strict dotted quads.
		"256.1.1.1",
		"1.2.3.256",
		"999.999.999.999",
		"1.2.3",
		"1.2.3.4.5",
		"1..2.3",
		"1.2.3.",
		".1.2.3",
		"01.2.3.4",
		"1.2.3.0004",
		"1234",
		"127.1",
		".",
		// IPv6.
		"[",
		"[]",
		"[:]",
		"[::1",
		"::1",
		"1234:5678::abcd",
		"[::1]x",
		"[::1]:",
		"[::1]:0",
		"[::1]:65536",
		"[::1]]",
		"[[::1]]",
		"[1.2.3.4]",
		"[::1%eth0]",
		"[fe80::1%25eth0]",
		"[:::]",
		"[1:2:3:4:5:6:7:8:9]",
		"[12345::]",
		"[g::1]",
		"[ ::1]",
		"[::1] ",
		"[0000:0000:0000:0000:0000:ffff:255.255.255.2550]", // 46 chars
		"[::ffff:01.2.3.4]",
	}
	for _, in := range tests {
		n, err := ParseServerName(in)
		checkErr(t, in, err)
		if n != (ServerName{}) {
			t.Errorf("ParseServerName(%q) returned %+v with error", in, n)
		}
		if ValidServerName(in) {
			t.Errorf("ValidServerName(%q) = true", in)
		}
	}
}

func TestHostKindString(t *testing.T) {
	for k, want := range map[HostKind]string{0: "invalid", HostDNS: "dns", HostIPv4: "ipv4", HostIPv6: "ipv6", 9: "invalid"} {
		if got := k.String(); got != want {
			t.Errorf("HostKind(%d).String() = %q, want %q", k, got, want)
		}
	}
}

package ids

import "testing"

func TestParseEventID(t *testing.T) {
	accept := []struct {
		in, opaque, server string
	}{
		{"$abc123:example.org", "abc123", "example.org"},
		{"$randomstring:example.org", "randomstring", "example.org"},
		{"$a:b:1", "a", "b:1"},
		{"$a b/+=\x7f:[::1]", "a b/+=\x7f", "[::1]"},
		{long("$", 255, ":example.org"), long("", 242, ""), "example.org"},
		{specV4EventID, specV4EventID[1:], ""},
		{specV3EventID, specV3EventID[1:], ""},
		{specV3EventID2, specV3EventID2[1:], ""},
		{"$" + specV12RoomID[1:], specV12RoomID[1:], ""},
	}
	for _, tt := range accept {
		e, err := ParseEventID(tt.in)
		if err != nil {
			t.Errorf("ParseEventID(%q): %v", tt.in, err)
			continue
		}
		if e.Opaque != tt.opaque || e.Server != tt.server || e.String() != tt.in || e.IsHash() != (tt.server == "") {
			t.Errorf("ParseEventID(%q) = %+v", tt.in, e)
		}
	}

	reject := []string{
		"",
		"$",
		"$:",
		"$:example.org",
		"$abc",
		"$abc:",
		"abc:example.org",
		"!abc:example.org",
		"$abc:example.org:99999",
		"$a\x00:example.org",
		"$a\xc0:example.org",
		long("$", 256, ":example.org"),
		specV4EventID[:43],
		specV4EventID + "A",
		specV4EventID + "=",
		"$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zh", // padding bits set
		"$acR1l0raoZnm60CBwAVgqbZqoO/mYU81xysh1u7XcJl", // padding bits set
		"$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92+kuZq3a5lr5Zg", // mixes '-' and '+'
		"$acR1l0raoZnm60CBwAVgqbZqoO/mYU81xysh1u7Xc_k", // mixes '/' and '_'
		"$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Z.",
	}
	for _, in := range reject {
		e, err := ParseEventID(in)
		checkErr(t, in, err)
		if e != (EventID{}) {
			t.Errorf("ParseEventID(%q) returned %+v with error", in, e)
		}
	}
}

func TestValidEventIDForFormat(t *testing.T) {
	const alnum = "$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	tests := []struct {
		in           string
		urlSafe, std bool
	}{
		{specV4EventID, true, false},
		{specV3EventID, false, true},
		{specV3EventID2, true, true}, // only characters common to both
		{alnum, true, true},
		{"$abc:example.org", false, false},
		{"", false, false},
		{"$", false, false},
		{alnum[1:], false, false},
		{"!" + alnum[1:], false, false},
		{alnum + "A", false, false},
		{alnum[:43] + "B", false, false},
		{"$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92+kuZq3a5lr5Zg", false, false},
	}
	for _, tt := range tests {
		if got := ValidEventIDForFormat(tt.in, true); got != tt.urlSafe {
			t.Errorf("ValidEventIDForFormat(%q, true) = %v", tt.in, got)
		}
		if got := ValidEventIDForFormat(tt.in, false); got != tt.std {
			t.Errorf("ValidEventIDForFormat(%q, false) = %v", tt.in, got)
		}
	}
}

package ids

import "testing"

func TestParseRoomAlias(t *testing.T) {
	accept := []struct {
		in, local, server string
	}{
		{"#room:example.org", "room", "example.org"},
		{"#Room_Alias-1:example.org:8448", "Room_Alias-1", "example.org:8448"},
		{"#a:b", "a", "b"},
		{"##:1.2.3.4", "#", "1.2.3.4"},
		{"#café ☕ \t!@$:example.org", "café ☕ \t!@$", "example.org"},
		{"#a:[1234:5678::abcd]:8448", "a", "[1234:5678::abcd]:8448"},
		{long("#", 255, ":example.org"), long("", 242, ""), "example.org"},
	}
	for _, tt := range accept {
		a, err := ParseRoomAlias(tt.in)
		if err != nil {
			t.Errorf("ParseRoomAlias(%q): %v", tt.in, err)
			continue
		}
		if a.Localpart != tt.local || a.Server != tt.server || a.Domain() != tt.server || a.String() != tt.in {
			t.Errorf("ParseRoomAlias(%q) = %+v", tt.in, a)
		}
	}

	reject := []string{
		"",
		"#",
		"#:",
		"#:example.org",
		"#room",
		"#room:",
		"room:example.org",
		"!room:example.org",
		"#room:example.org:0",
		"#room:exam ple.org",
		"#ro\x00om:example.org",
		"#ro\x80om:example.org",
		"#\xed\xbf\xbf:example.org", // encoded surrogate U+DFFF
		long("#", 256, ":example.org"),
	}
	for _, in := range reject {
		a, err := ParseRoomAlias(in)
		checkErr(t, in, err)
		if a != (RoomAlias{}) {
			t.Errorf("ParseRoomAlias(%q) returned %+v with error", in, a)
		}
	}
}

package ids

import (
	"strings"
	"testing"
)

// Hash-form identifiers from the spec (v12 room ID, v4 and v3 event IDs).
const (
	specV12RoomID  = "!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ"
	specV4EventID  = "$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg"
	specV3EventID  = "$acR1l0raoZnm60CBwAVgqbZqoO/mYU81xysh1u7XcJk"
	specV3EventID2 = "$CD66HAED5npg6074c6pDtLKalHjVfYb2q4Q3LZgrW6o"
)

func TestParseRoomID(t *testing.T) {
	accept := []struct {
		in, opaque, server string
	}{
		{"!abcdefg:example.org", "abcdefg", "example.org"},
		{"!636q39766251:example.com", "636q39766251", "example.com"},
		{"!a:b", "a", "b"},
		{"!a:1.2.3.4:8448", "a", "1.2.3.4:8448"},
		{"!a:[1234:5678::abcd]:8448", "a", "[1234:5678::abcd]:8448"},
		{"!ABC xyz\x01é!$#:example.org", "ABC xyz\x01é!$#", "example.org"},
		{"!!:example.org", "!", "example.org"},
		{long("!", 255, ":example.org"), long("", 242, ""), "example.org"},
		// v12: '!' and 43 characters of URL-safe unpadded base64.
		{specV12RoomID, specV12RoomID[1:], ""},
		{"!" + specV4EventID[1:], specV4EventID[1:], ""},
		{"!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ""},
		{"!" + strings.Repeat("_", 42) + "w", strings.Repeat("_", 42) + "w", ""},
	}
	for _, tt := range accept {
		r, err := ParseRoomID(tt.in)
		if err != nil {
			t.Errorf("ParseRoomID(%q): %v", tt.in, err)
			continue
		}
		if r.Opaque != tt.opaque || r.Server != tt.server || r.String() != tt.in || r.IsHash() != (tt.server == "") {
			t.Errorf("ParseRoomID(%q) = %+v", tt.in, r)
		}
	}

	reject := []string{
		"",
		"!",
		"!:",
		"!:example.org",
		"!abc",
		"!abc:",
		"abc:example.org",
		"$abc:example.org",
		"#abc:example.org",
		"!abc:example.org:0",
		"!abc:exa mple.org",
		"!a\x00b:example.org",
		"!a\xffb:example.org",
		long("!", 256, ":example.org"),
		// Hash form: wrong length, wrong alphabet, non-canonical, padded.
		specV12RoomID[:43],
		specV12RoomID + "A",
		"!" + specV3EventID[1:],                        // '/' is not URL-safe
		"!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYR", // padding bits set
		"!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpY=",
		"!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ=",
		"!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnp Q",
		"!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpéQ",
		"$Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ",
	}
	for _, in := range reject {
		r, err := ParseRoomID(in)
		checkErr(t, in, err)
		if r != (RoomID{}) {
			t.Errorf("ParseRoomID(%q) returned %+v with error", in, r)
		}
	}
}

package ids

import "testing"

func TestParseUserID(t *testing.T) {
	tests := []struct {
		in      string
		strict  bool // accepted by ParseUserID
		lenient bool // accepted by ParseUserIDLenient
		local   string
		server  string
	}{
		{"@alice:example.org", true, true, "alice", "example.org"},
		{"@user:matrix.org", true, true, "user", "matrix.org"},
		{"@a:b", true, true, "a", "b"},
		{"@a.b_c=d-e/f+g:example.org:8448", true, true, "a.b_c=d-e/f+g", "example.org:8448"},
		{"@0123456789:1.2.3.4", true, true, "0123456789", "1.2.3.4"},
		{"@bob:[1234:5678::abcd]:8448", true, true, "bob", "[1234:5678::abcd]:8448"},
		{"@bob:[::1]", true, true, "bob", "[::1]"},
		{"@user:MATRIX.ORG", true, true, "user", "MATRIX.ORG"},
		{long("@", 255, ":example.org"), true, true, long("", 242, ""), "example.org"},
		// Historical: accepted only leniently.
		{"@Alice:example.org", false, true, "Alice", "example.org"},
		{"@alice!#$%&'()*;<=>?[\\]^`{|}~:example.org", false, true, "alice!#$%&'()*;<=>?[\\]^`{|}~", "example.org"},
		{"@:example.org", false, true, "", "example.org"},
		{"@al ice:example.org", false, true, "al ice", "example.org"},
		{"@alice\x01:example.org", false, true, "alice\x01", "example.org"},
		{"@alice\t\n:example.org", false, true, "alice\t\n", "example.org"},
		{"@ålice:example.org", false, true, "ålice", "example.org"},
		{"@😀:example.org", false, true, "😀", "example.org"},
		{"@@alice:example.org", false, true, "@alice", "example.org"},
		{"@\u200b:example.org", false, true, "\u200b", "example.org"},
		// Rejected by both.
		{"", false, false, "", ""},
		{"@", false, false, "", ""},
		{"alice:example.org", false, false, "", ""},
		{"#alice:example.org", false, false, "", ""},
		{" @alice:example.org", false, false, "", ""},
		{"@alice", false, false, "", ""},
		{"@alice:", false, false, "", ""},
		{"@alice:example.org:", false, false, "", ""},
		{"@alice:example.org:0", false, false, "", ""},
		{"@alice:example.org:65536", false, false, "", ""},
		{"@alice:example org", false, false, "", ""},
		{"@alice:exämple.org", false, false, "", ""},
		{"@alice:bob:example.org", false, false, "", ""}, // localpart ends at the first ':'
		{"@al\x00ice:example.org", false, false, "", ""},
		{"@al\xffice:example.org", false, false, "", ""},
		{"@\xed\xa0\x80:example.org", false, false, "", ""}, // encoded surrogate U+D800
		{long("@", 256, ":example.org"), false, false, "", ""},
		{long("@A", 256, ":example.org"), false, false, "", ""},
	}
	for _, tt := range tests {
		u, err := ParseUserID(tt.in)
		if tt.strict {
			if err != nil {
				t.Errorf("ParseUserID(%q): %v", tt.in, err)
			} else if u.Localpart != tt.local || u.Server != tt.server || u.String() != tt.in || u.Domain() != tt.server {
				t.Errorf("ParseUserID(%q) = %+v", tt.in, u)
			} else if u.Historical() {
				t.Errorf("ParseUserID(%q).Historical() = true", tt.in)
			}
		} else {
			checkErr(t, tt.in, err)
		}

		u, err = ParseUserIDLenient(tt.in)
		if tt.lenient {
			if err != nil {
				t.Errorf("ParseUserIDLenient(%q): %v", tt.in, err)
			} else if u.Localpart != tt.local || u.Server != tt.server || u.String() != tt.in {
				t.Errorf("ParseUserIDLenient(%q) = %+v", tt.in, u)
			} else if u.Historical() == tt.strict {
				t.Errorf("ParseUserIDLenient(%q).Historical() = %v", tt.in, u.Historical())
			}
		} else {
			checkErr(t, tt.in, err)
		}
	}
}

func TestUserIDCompliant(t *testing.T) {
	tests := []struct {
		local string
		want  bool
	}{
		{"alice", true},
		{"Alice", true},
		{"!~", true},
		{"", false},
		{"al ice", false},
		{"alice\x7f", false},
		{"ålice", false},
		{"\x01", false},
	}
	for _, tt := range tests {
		if got := (UserID{Localpart: tt.local, Server: "x"}).Compliant(); got != tt.want {
			t.Errorf("Compliant(%q) = %v, want %v", tt.local, got, tt.want)
		}
	}
}

func TestValidLocalpart(t *testing.T) {
	for _, s := range []string{"a", "alice", "0", "a.b_c=d-e/f+g", "=2f", long("", 300, "")} {
		if !ValidLocalpart(s) {
			t.Errorf("ValidLocalpart(%q) = false", s)
		}
	}
	for _, s := range []string{"", "Alice", "al ice", "alice:", "@alice", "ålice", "a\x00", "a*", "a#", "a!", "a~"} {
		if ValidLocalpart(s) {
			t.Errorf("ValidLocalpart(%q) = true", s)
		}
	}
}

func TestNewUserID(t *testing.T) {
	u, err := NewUserID("alice", "example.org:8448")
	if err != nil || u.String() != "@alice:example.org:8448" {
		t.Errorf("NewUserID = %+v, %v", u, err)
	}
	local := long("", 255-len("@:example.org"), "")
	if _, err := NewUserID(local, "example.org"); err != nil {
		t.Errorf("NewUserID at 255 bytes: %v", err)
	}
	for _, c := range [][2]string{
		{"", "example.org"},
		{"Alice", "example.org"},
		{"alice", ""},
		{"alice", "example.org:0"},
		{local + "a", "example.org"},
	} {
		_, err := NewUserID(c[0], c[1])
		checkErr(t, c[0]+" / "+c[1], err)
	}
}

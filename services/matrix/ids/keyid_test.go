package ids

import "testing"

func TestParseKeyID(t *testing.T) {
	accept := []struct {
		in, alg, ver string
	}{
		{"ed25519:abc123", "ed25519", "abc123"},
		{"ed25519:abc_1", "ed25519", "abc_1"},
		{"ed25519:0ldK3y", "ed25519", "0ldK3y"},
		{"ed25519:1", "ed25519", "1"},
		{"ed25519:policy_server", "ed25519", "policy_server"},
		{"ed25519:a_XyZw", "ed25519", "a_XyZw"},
		{"signed_curve25519:AAAAHQ", "signed_curve25519", "AAAAHQ"},
		{"org.example.alg-2:_", "org.example.alg-2", "_"},
		{long("ed25519:", 255, ""), "ed25519", long("", 247, "")},
	}
	for _, tt := range accept {
		k, err := ParseKeyID(tt.in)
		if err != nil {
			t.Errorf("ParseKeyID(%q): %v", tt.in, err)
			continue
		}
		if k.Algorithm != tt.alg || k.Version != tt.ver || k.String() != tt.in {
			t.Errorf("ParseKeyID(%q) = %+v", tt.in, k)
		}
	}

	reject := []string{
		"",
		":",
		"ed25519",
		"ed25519:",
		":abc",
		"Ed25519:abc",
		"1ed25519:abc",
		"_ed25519:abc",
		"ed 25519:abc",
		"ed25519:abc-1",
		"ed25519:abc.1",
		"ed25519:abc:1",
		"ed25519:abc 1",
		"ed25519:abc/",
		"ed25519:ab\x00",
		"ed25519:é",
		"éd25519:a",
		long("ed25519:", 256, ""),
	}
	for _, in := range reject {
		k, err := ParseKeyID(in)
		checkErr(t, in, err)
		if k != (KeyID{}) {
			t.Errorf("ParseKeyID(%q) returned %+v with error", in, k)
		}
	}
}

package ids

import (
	"strings"
	"testing"
)

// seedInputs is the common seed list for the fuzz targets: spec examples,
// edge cases at the length limits, and near misses.
func seedInputs() []string {
	return []string{
		"",
		"matrix.org",
		"matrix.org:8888",
		"1.2.3.4",
		"1.2.3.4:1234",
		"[1234:5678::abcd]",
		"[1234:5678::abcd]:8448",
		"[::ffff:1.2.3.4]:1",
		"example.org:65536",
		"example.org:08448",
		"256.1.1.1",
		"[fe80::1%eth0]",
		strings.Repeat("a", 255),
		strings.Repeat("a", 256),
		"@alice:example.org",
		"@a:b",
		"@Alice:example.org",
		"@:example.org",
		"@al\x00ice:example.org",
		"@ålice:[::1]:8448",
		"@a:b:c",
		"@" + strings.Repeat("a", 242) + ":example.org",
		"@" + strings.Repeat("a", 243) + ":example.org",
		"!abcdefg:example.org",
		specV12RoomID,
		"!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYR",
		"!:example.org",
		specV4EventID,
		specV3EventID,
		"$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92+kuZq3a5lr5Zg",
		"$abc:example.org",
		"#room:example.org",
		"#:example.org",
		"#café:example.org",
		"ed25519:abc_1",
		"ed25519:",
		"Ed25519:abc",
		"signed_curve25519:AAAAHQ",
		"GHTYAJCE",
		"\xff\xfe",
	}
}

func addSeeds(f *testing.F) {
	for _, s := range seedInputs() {
		f.Add(s)
	}
}

func FuzzParseServerName(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseServerName(s)
		if err != nil {
			checkErr(t, s, err)
			return
		}
		if n.String() != s {
			t.Fatalf("%q round-trips to %q", s, n.String())
		}
		if len(n.Host) > 255 || n.Port < 0 || n.Port > 65535 {
			t.Fatalf("%q parsed to %+v", s, n)
		}
	})
}

func FuzzParseUserID(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		strict, strictErr := ParseUserID(s)
		lenient, lenientErr := ParseUserIDLenient(s)
		if strictErr == nil {
			if lenientErr != nil {
				t.Fatalf("%q: strict accepts, lenient rejects: %v", s, lenientErr)
			}
			if strict != lenient || strict.String() != s {
				t.Fatalf("%q: strict %+v, lenient %+v", s, strict, lenient)
			}
			if strict.Historical() {
				t.Fatalf("%q: strictly valid but Historical", s)
			}
		} else {
			checkErr(t, s, strictErr)
		}
		if lenientErr == nil {
			if lenient.String() != s || len(s) > 255 {
				t.Fatalf("%q round-trips to %q", s, lenient.String())
			}
		} else {
			checkErr(t, s, lenientErr)
		}
	})
}

func FuzzParseRoomID(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRoomID(s)
		if err != nil {
			checkErr(t, s, err)
			return
		}
		if r.String() != s || len(s) > 255 {
			t.Fatalf("%q round-trips to %q", s, r.String())
		}
		if r.IsHash() && !ValidEventIDForFormat("$"+r.Opaque, true) {
			t.Fatalf("%q: hash form that is not a URL-safe event ID", s)
		}
	})
}

func FuzzParseEventID(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseEventID(s)
		hash := ValidEventIDForFormat(s, true) || ValidEventIDForFormat(s, false)
		if err != nil {
			checkErr(t, s, err)
			if hash {
				t.Fatalf("%q rejected but ValidEventIDForFormat accepts", s)
			}
			return
		}
		if e.String() != s || len(s) > 255 {
			t.Fatalf("%q round-trips to %q", s, e.String())
		}
		if e.IsHash() != hash {
			t.Fatalf("%q: IsHash %v, ValidEventIDForFormat %v", s, e.IsHash(), hash)
		}
	})
}

func FuzzParseAlias(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseRoomAlias(s)
		if err != nil {
			checkErr(t, s, err)
			return
		}
		if a.String() != s || len(s) > 255 || a.Localpart == "" {
			t.Fatalf("%q round-trips to %q", s, a.String())
		}
	})
}

func FuzzParseKeyID(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKeyID(s)
		// Exercise the remaining predicates too; they must not panic.
		_ = ValidOpaqueID(s)
		_ = ValidDeviceID(s)
		if err != nil {
			checkErr(t, s, err)
			return
		}
		if k.String() != s || k.Algorithm == "" || k.Version == "" {
			t.Fatalf("%q round-trips to %q", s, k.String())
		}
	})
}

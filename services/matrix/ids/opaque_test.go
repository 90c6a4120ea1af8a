package ids

import "testing"

func TestValidOpaqueID(t *testing.T) {
	accept := []string{"a", "Z", "0", "-", ".", "_", "~", "abc-DEF.123_~", long("", 255, "")}
	for _, s := range accept {
		if !ValidOpaqueID(s) {
			t.Errorf("ValidOpaqueID(%q) = false", s)
		}
	}
	reject := []string{"", " ", "a b", "a:b", "a/b", "a+b", "a=b", "a%20", "é", "a\x00", "a\n", long("", 256, "")}
	for _, s := range reject {
		if ValidOpaqueID(s) {
			t.Errorf("ValidOpaqueID(%q) = true", s)
		}
	}
}

func TestValidDeviceID(t *testing.T) {
	accept := []string{
		"GHTYAJCE",
		"JLAFKJWSCS",
		"abc-DEF.123_~",
		"device:with:colons",
		"!\"#$%&'()*+,-./\\[]^`{|}",
		"Gerät",
		"设备",
		long("", 255, ""),
	}
	for _, s := range accept {
		if !ValidDeviceID(s) {
			t.Errorf("ValidDeviceID(%q) = false", s)
		}
	}
	reject := []string{
		"",
		" ",
		"a b",
		"ab ",
		"a\tb",
		"a\nb",
		"a\x00",
		"a\x7f",
		"a\u0085",  // C1 control
		"a\u00a0b", // no-break space
		"a\u200bb", // zero-width space
		"a\u202eb", // right-to-left override
		"a\u3000b", // ideographic space
		"\xff",
		long("", 256, ""),
	}
	for _, s := range reject {
		if ValidDeviceID(s) {
			t.Errorf("ValidDeviceID(%q) = true", s)
		}
	}
}

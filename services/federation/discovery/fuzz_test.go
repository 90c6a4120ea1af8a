package discovery

import (
	"testing"
	"time"

	"hearth/services/matrix/ids"
)

func FuzzParseWellKnown(f *testing.F) {
	for _, s := range []string{
		`{"m.server":"example.org:8448"}`, `{"m.server":"[::1]"}`, `{"m.server":"1.2.3.4:1"}`,
		`{"m.server":null}`, `{"m.server":1}`, `[]`, `null`, `{"m.server":"a","m.server":"b"}`,
		`{"m.server":"\u0000"}`, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		name, err := parseWellKnown(body)
		if err != nil {
			return
		}
		again, err := ids.ParseServerName(name.String())
		if err != nil || again != name {
			t.Fatalf("m.server %q does not round-trip: %+v, %v", name, again, err)
		}
	})
}

func FuzzCacheControl(f *testing.F) {
	for _, s := range []string{
		"", "max-age=60", "no-store", `max-age="60"`, "public, max-age=99999999999999999999999",
		"max-age=", "max-age", `max-age="`, "MAX-AGE = 5", ",,,", "no-cache=\"x\", max-age=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		age, ok := maxAge(header)
		if age < 0 || age > maxTTL || !ok && age != 0 {
			t.Fatalf("maxAge(%q) = %v, %v", header, age, ok)
		}
		if ttl := successTTL(header); ttl < minTTL || ttl > maxTTL {
			t.Fatalf("successTTL(%q) = %v, outside [%v, %v]", header, ttl, minTTL, maxTTL)
		}
		if failureTTL(len(header)+1) > time.Hour {
			t.Fatal("failure back-off over an hour")
		}
	})
}

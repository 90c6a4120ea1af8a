package ids

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// checkAll runs every parser on s and checks the properties that must hold
// for any input: accepted values print back to exactly the input, strict
// acceptance implies lenient acceptance, rejections wrap ErrInvalid, and the
// Valid* predicates agree with the parsers. Shared by the property test and
// the fuzz targets.
func checkAll(t *testing.T, s string) {
	t.Helper()
	if n, err := ParseServerName(s); err == nil {
		if n.String() != s {
			t.Errorf("server name %q round-trips to %q", s, n.String())
		}
		if n.Port < 0 || n.Port > 65535 || n.Kind < HostDNS || n.Kind > HostIPv6 {
			t.Errorf("server name %q parsed to %+v", s, n)
		}
		if !ValidServerName(s) {
			t.Errorf("ValidServerName(%q) disagrees with ParseServerName", s)
		}
	} else {
		checkErr(t, s, err)
		if ValidServerName(s) {
			t.Errorf("ValidServerName(%q) disagrees with ParseServerName", s)
		}
	}

	strict, strictErr := ParseUserID(s)
	lenient, lenientErr := ParseUserIDLenient(s)
	if strictErr == nil {
		if strict.String() != s {
			t.Errorf("user ID %q round-trips to %q", s, strict.String())
		}
		if lenientErr != nil {
			t.Errorf("user ID %q accepted strictly but not leniently: %v", s, lenientErr)
		} else if lenient != strict {
			t.Errorf("user ID %q parsed differently: %+v vs %+v", s, strict, lenient)
		}
		if !ValidLocalpart(strict.Localpart) || strict.Historical() || !strict.Compliant() {
			t.Errorf("user ID %q: strict localpart not valid/compliant", s)
		}
		if u, err := NewUserID(strict.Localpart, strict.Server); err != nil || u != strict {
			t.Errorf("NewUserID from %q = %+v, %v", s, u, err)
		}
	} else {
		checkErr(t, s, strictErr)
	}
	if lenientErr == nil {
		if lenient.String() != s {
			t.Errorf("lenient user ID %q round-trips to %q", s, lenient.String())
		}
		if len(s) > 255 || !ValidServerName(lenient.Server) {
			t.Errorf("lenient user ID %q accepted with bad length or server", s)
		}
	} else {
		checkErr(t, s, lenientErr)
	}

	if r, err := ParseRoomID(s); err == nil {
		if r.String() != s || len(s) > 255 {
			t.Errorf("room ID %q round-trips to %q", s, r.String())
		}
		if r.IsHash() && len(r.Opaque) != 43 {
			t.Errorf("hash room ID %q has opaque part of length %d", s, len(r.Opaque))
		}
	} else {
		checkErr(t, s, err)
	}

	if e, err := ParseEventID(s); err == nil {
		if e.String() != s || len(s) > 255 {
			t.Errorf("event ID %q round-trips to %q", s, e.String())
		}
		if e.IsHash() != (ValidEventIDForFormat(s, true) || ValidEventIDForFormat(s, false)) {
			t.Errorf("event ID %q: IsHash disagrees with ValidEventIDForFormat", s)
		}
	} else {
		checkErr(t, s, err)
		if ValidEventIDForFormat(s, true) || ValidEventIDForFormat(s, false) {
			t.Errorf("event ID %q rejected but ValidEventIDForFormat accepts it", s)
		}
	}

	if a, err := ParseRoomAlias(s); err == nil {
		if a.String() != s || len(s) > 255 {
			t.Errorf("room alias %q round-trips to %q", s, a.String())
		}
	} else {
		checkErr(t, s, err)
	}

	if k, err := ParseKeyID(s); err == nil {
		if k.String() != s {
			t.Errorf("key ID %q round-trips to %q", s, k.String())
		}
	} else {
		checkErr(t, s, err)
	}

	// The predicates must simply not panic.
	_ = ValidOpaqueID(s)
	_ = ValidDeviceID(s)
	_ = ValidLocalpart(s)
}

// randomServerName builds a valid server name of a random kind.
func randomServerName(r *rand.Rand) string {
	var host string
	switch r.IntN(3) {
	case 0:
		const dnsChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-."
		var b strings.Builder
		b.WriteByte('x') // keeps the name from being all digits and dots
		for range r.IntN(40) {
			b.WriteByte(dnsChars[r.IntN(len(dnsChars))])
		}
		host = b.String()
	case 1:
		host = strconv.Itoa(r.IntN(256)) + "." + strconv.Itoa(r.IntN(256)) + "." +
			strconv.Itoa(r.IntN(256)) + "." + strconv.Itoa(r.IntN(256))
	default:
		groups := make([]string, 8)
		for i := range groups {
			groups[i] = strconv.FormatUint(uint64(r.IntN(1<<16)), 16)
		}
		host = "[" + strings.Join(groups, ":") + "]"
	}
	if r.IntN(2) == 0 {
		host += ":" + strconv.Itoa(1+r.IntN(65535))
	}
	return host
}

// randomFrom returns a string of up to max bytes drawn from alphabet.
func randomFrom(r *rand.Rand, alphabet string, max int) string {
	return randomExact(r, alphabet, r.IntN(max+1))
}

// randomExact returns a string of exactly n bytes drawn from alphabet.
func randomExact(r *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// TestRoundTripProperty generates identifiers that should be valid, checks
// that they are accepted, and checks the general properties of checkAll on
// them and on random near-miss strings.
func TestRoundTripProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const (
		strictChars = "abcdefghijklmnopqrstuvwxyz0123456789._=-/+"
		urlB64      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		stdB64      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
		canonLast   = "AEIMQUYcgkosw048"
		noise       = "@!$#:[].0123456789abcAZ-_+/= \x00\xff\xc3\xa9"
	)
	for range 5000 {
		server := randomServerName(r)
		if !ValidServerName(server) {
			t.Fatalf("generated server name %q rejected", server)
		}
		local := "a" + randomFrom(r, strictChars, 30)
		hashURL := randomExact(r, urlB64, 42) + randomExact(r, canonLast, 1)
		hashStd := randomExact(r, stdB64, 42) + randomExact(r, canonLast, 1)

		valid := map[string]func(string) error{
			"@" + local + ":" + server: func(s string) error { _, err := ParseUserID(s); return err },
			"!" + local + ":" + server: func(s string) error { _, err := ParseRoomID(s); return err },
			"!" + hashURL:              func(s string) error { _, err := ParseRoomID(s); return err },
			"$" + local + ":" + server: func(s string) error { _, err := ParseEventID(s); return err },
			"$" + hashURL:              func(s string) error { _, err := ParseEventID(s); return err },
			"$" + hashStd:              func(s string) error { _, err := ParseEventID(s); return err },
			"#" + local + ":" + server: func(s string) error { _, err := ParseRoomAlias(s); return err },
			"ed25519:" + randomFrom(r, "abcXYZ019_", 10) + "k": func(s string) error { _, err := ParseKeyID(s); return err },
		}
		for s, parse := range valid {
			if err := parse(s); err != nil {
				t.Fatalf("generated %q rejected: %v", s, err)
			}
			checkAll(t, s)
			// Mutate one byte and check the general properties again.
			b := []byte(s)
			b[r.IntN(len(b))] = noise[r.IntN(len(noise))]
			checkAll(t, string(b))
		}
		checkAll(t, randomFrom(r, noise, 60))
	}
}

// TestRoundTripTables runs checkAll over the inputs of the other tests'
// tables, accepted and rejected alike.
func TestRoundTripTables(t *testing.T) {
	for _, s := range seedInputs() {
		checkAll(t, s)
	}
}

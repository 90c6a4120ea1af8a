package xmatrix_test

import (
	"errors"
	"strings"
	"testing"

	"hearth/services/federation/xmatrix"
)

func TestParseSpecExample(t *testing.T) {
	// server-server-api.md, "Request Authentication", step 2.
	h := `X-Matrix origin="origin.hs.example.com",destination="destination.hs.example.com",key="ed25519:key1",sig="ABCDEF..."`
	got, err := xmatrix.Parse(h)
	if err != nil {
		t.Fatal(err)
	}
	want := xmatrix.Params{Origin: "origin.hs.example.com", Destination: "destination.hs.example.com", KeyID: "ed25519:key1", Sig: "ABCDEF..."}
	if got != want {
		t.Fatalf("Parse = %+v, want %+v", got, want)
	}
}

func TestParseTolerant(t *testing.T) {
	want := xmatrix.Params{Origin: "a.example", Destination: "b.example:8448", KeyID: "ed25519:k_1", Sig: "c2lnbmF0dXJl+/="}
	cases := map[string]string{
		"conservative":         `X-Matrix origin="a.example",destination="b.example:8448",key="ed25519:k_1",sig="c2lnbmF0dXJl+/="`,
		"scheme case":          `x-matrix origin="a.example",destination="b.example:8448",key="ed25519:k_1",sig="c2lnbmF0dXJl+/="`,
		"several spaces":       "X-Matrix    origin=\"a.example\",destination=\"b.example:8448\",key=\"ed25519:k_1\",sig=\"c2lnbmF0dXJl+/=\"",
		"tab after scheme":     "X-Matrix\torigin=\"a.example\",destination=\"b.example:8448\",key=\"ed25519:k_1\",sig=\"c2lnbmF0dXJl+/=\"",
		"spaces around commas": `X-Matrix origin="a.example" , destination="b.example:8448" ,key="ed25519:k_1",  sig="c2lnbmF0dXJl+/="`,
		"tabs around commas":   "X-Matrix origin=\"a.example\"\t,\tdestination=\"b.example:8448\",key=\"ed25519:k_1\",sig=\"c2lnbmF0dXJl+/=\"",
		"space around equals":  `X-Matrix origin = "a.example",destination= "b.example:8448",key ="ed25519:k_1",sig="c2lnbmF0dXJl+/="`,
		"unquoted":             `X-Matrix origin=a.example,destination=b.example:8448,key=ed25519:k_1,sig=c2lnbmF0dXJl+/=`,
		"mixed quoting":        `X-Matrix origin=a.example,destination="b.example:8448",key=ed25519:k_1,sig="c2lnbmF0dXJl+/="`,
		"escapes":              `X-Matrix origin="a\.example",destination="b.example\:8448",key="\e\d25519:k_1",sig="c2lnbmF0dXJl+/\="`,
		"name case":            `X-Matrix ORIGIN="a.example",Destination="b.example:8448",KEY="ed25519:k_1",Sig="c2lnbmF0dXJl+/="`,
		"reordered":            `X-Matrix sig="c2lnbmF0dXJl+/=",key="ed25519:k_1",destination="b.example:8448",origin="a.example"`,
		"unknown params":       `X-Matrix realm="x,y",origin="a.example",foo=bar,destination="b.example:8448",key="ed25519:k_1",sig="c2lnbmF0dXJl+/=",foo=baz`,
		"empty list elements":  `X-Matrix ,origin="a.example",,destination="b.example:8448",key="ed25519:k_1",sig="c2lnbmF0dXJl+/=",`,
		"trailing whitespace":  "X-Matrix origin=\"a.example\",destination=\"b.example:8448\",key=\"ed25519:k_1\",sig=\"c2lnbmF0dXJl+/=\" \t",
		"signature alias":      `X-Matrix origin="a.example",destination="b.example:8448",key="ed25519:k_1",signature="c2lnbmF0dXJl+/="`,
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := xmatrix.Parse(h)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("Parse = %+v, want %+v", got, want)
			}
		})
	}
}

func TestParseMissingDestination(t *testing.T) {
	got, err := xmatrix.Parse(`X-Matrix origin=a.example,key="ed25519:1",sig="abc"`)
	if err != nil {
		t.Fatal(err)
	}
	if got.Destination != "" || got.Origin != "a.example" {
		t.Fatalf("Parse = %+v", got)
	}
}

func TestParseQuotedSpecialCharacters(t *testing.T) {
	got, err := xmatrix.Parse(`X-Matrix origin="a b,c\"d\\e",key="ed25519:1",sig="abc"`)
	if err != nil {
		t.Fatal(err)
	}
	if got.Origin != `a b,c"d\e` {
		t.Fatalf("origin = %q", got.Origin)
	}
}

func TestParseRejects(t *testing.T) {
	cases := map[string]struct {
		header string
		want   error
	}{
		"empty":                {"", xmatrix.ErrMissing},
		"other scheme":         {"Bearer abc", xmatrix.ErrMissing},
		"scheme only":          {"X-Matrix", xmatrix.ErrMissing},
		"no space":             {`X-Matrixorigin="a",key="ed25519:1",sig="x"`, xmatrix.ErrMissing},
		"no params":            {"X-Matrix ", xmatrix.ErrBadHeader},
		"missing origin":       {`X-Matrix key="ed25519:1",sig="x"`, xmatrix.ErrBadHeader},
		"missing key":          {`X-Matrix origin="a",sig="x"`, xmatrix.ErrBadHeader},
		"missing sig":          {`X-Matrix origin="a",key="ed25519:1"`, xmatrix.ErrBadHeader},
		"duplicate origin":     {`X-Matrix origin="a",origin="b",key="ed25519:1",sig="x"`, xmatrix.ErrBadHeader},
		"duplicate name case":  {`X-Matrix origin="a",ORIGIN="a",key="ed25519:1",sig="x"`, xmatrix.ErrBadHeader},
		"sig and signature":    {`X-Matrix origin="a",key="ed25519:1",sig="x",signature="x"`, xmatrix.ErrBadHeader},
		"empty destination":    {`X-Matrix origin="a",destination="",key="ed25519:1",sig="x"`, xmatrix.ErrBadHeader},
		"empty value":          {`X-Matrix origin=,key="ed25519:1",sig="x"`, xmatrix.ErrBadHeader},
		"unterminated quote":   {`X-Matrix origin="a,key="ed25519:1",sig="x`, xmatrix.ErrBadHeader},
		"missing equals":       {`X-Matrix origin "a",key="ed25519:1",sig="x"`, xmatrix.ErrBadHeader},
		"no comma":             {`X-Matrix origin="a" key="ed25519:1",sig="x"`, xmatrix.ErrBadHeader},
		"junk after quote":     {`X-Matrix origin="a"b,key="ed25519:1",sig="x"`, xmatrix.ErrBadHeader},
		"control in quote":     {"X-Matrix origin=\"a\x01\",key=\"ed25519:1\",sig=\"x\"", xmatrix.ErrBadHeader},
		"newline in quote":     {"X-Matrix origin=\"a\nb\",key=\"ed25519:1\",sig=\"x\"", xmatrix.ErrBadHeader},
		"trailing backslash":   {`X-Matrix origin="a\`, xmatrix.ErrBadHeader},
		"bare backslash value": {`X-Matrix origin=a\b,key="ed25519:1",sig="x"`, xmatrix.ErrBadHeader},
		"too long":             {`X-Matrix origin="a",key="ed25519:1",sig="` + strings.Repeat("A", xmatrix.MaxHeaderLen) + `"`, xmatrix.ErrBadHeader},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := xmatrix.Parse(c.header)
			if !errors.Is(err, c.want) {
				t.Fatalf("Parse = %+v, %v; want %v", p, err, c.want)
			}
		})
	}
}

func TestFormatConservative(t *testing.T) {
	got, err := xmatrix.Format(xmatrix.Params{Origin: "a.example", Destination: "b.example", KeyID: "ed25519:k", Sig: "c2ln"})
	if err != nil {
		t.Fatal(err)
	}
	want := `X-Matrix origin="a.example",destination="b.example",key="ed25519:k",sig="c2ln"`
	if got != want {
		t.Fatalf("Format = %s\nwant     %s", got, want)
	}
}

func TestFormatRefuses(t *testing.T) {
	good := xmatrix.Params{Origin: "a", Destination: "b", KeyID: "ed25519:k", Sig: "s"}
	cases := map[string]func(*xmatrix.Params){
		"quote in origin":     func(p *xmatrix.Params) { p.Origin = `a"b` },
		"backslash in key":    func(p *xmatrix.Params) { p.KeyID = `ed25519:\k` },
		"newline in sig":      func(p *xmatrix.Params) { p.Sig = "s\r\nX-Evil: 1" },
		"empty origin":        func(p *xmatrix.Params) { p.Origin = "" },
		"empty key":           func(p *xmatrix.Params) { p.KeyID = "" },
		"empty sig":           func(p *xmatrix.Params) { p.Sig = "" },
		"control in dest":     func(p *xmatrix.Params) { p.Destination = "b\x00" },
		"longer than allowed": func(p *xmatrix.Params) { p.Sig = strings.Repeat("A", xmatrix.MaxHeaderLen) },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			p := good
			mutate(&p)
			if h, err := xmatrix.Format(p); err == nil {
				t.Fatalf("Format accepted %+v: %s", p, h)
			}
		})
	}
}

func TestFormatParseRoundTrip(t *testing.T) {
	for _, p := range []xmatrix.Params{
		{Origin: "a.example", Destination: "b.example", KeyID: "ed25519:k", Sig: "c2ln"},
		{Origin: "[::1]:8448", Destination: "1.2.3.4:80", KeyID: "ed25519:a_B", Sig: "x+/y"},
		{Origin: "a.example", KeyID: "ed25519:k", Sig: "c2ln"}, // no destination
		{Origin: "a b,c", KeyID: "k=v", Sig: "ünïcode"},
	} {
		h, err := xmatrix.Format(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := xmatrix.Parse(h)
		if err != nil {
			t.Fatalf("Parse(%s): %v", h, err)
		}
		if got != p {
			t.Fatalf("round trip: %+v -> %s -> %+v", p, h, got)
		}
	}
}

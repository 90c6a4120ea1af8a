package bench

import (
	"bytes"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleRun(label string, scale float64) *Run {
	r := &Run{
		Started: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), Seconds: 42,
		Server:  ServerInfo{Label: label, URL: "http://127.0.0.1:8008", Version: "v1"},
		Machine: Machine{CPUModel: "Test CPU", Cores: 2, MemoryMiB: 1024, OS: "linux", Arch: "amd64"},
		Params:  QuickParams(),
	}
	r.Add("latency", "p50", 4*scale, "ms", "lower")
	r.Add("throughput", "messages", 800*scale, "msg/s", "higher")
	r.Skip("federation_join", "no server B")
	return r
}

func TestRunJSONRoundTrip(t *testing.T) {
	r := sampleRun("hearth", 1)
	path := filepath.Join(t.TempDir(), "run.json")
	if err := r.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRunFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, r)
	}
	if _, err := ParseRun([]byte(`{"params":{"idle_wait":"forever"}}`)); err == nil {
		t.Error("a bad duration parsed")
	}
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, sampleRun("hearth", 1)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"latency", "p50", "ms", "throughput", "800", "msg/s", "skipped federation_join: no server B", "Test CPU, 2 cores"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestCompare(t *testing.T) {
	a, b := sampleRun("hearth", 1), sampleRun("other", 2)
	b.Add("accounts", "logins", 10, "logins/s", "higher")
	a.Add("pagination", "events", 0, "events/s", "higher")
	got := Compare(a, b)
	want := []Comparison{
		{Scenario: "latency", Name: "p50", Unit: "ms", Better: "lower", A: 4, B: 8, HasA: true, HasB: true, Ratio: 2},
		{Scenario: "throughput", Name: "messages", Unit: "msg/s", Better: "higher", A: 800, B: 1600, HasA: true, HasB: true, Ratio: 2},
		{Scenario: "pagination", Name: "events", Unit: "events/s", Better: "higher", A: 0, HasA: true},
		{Scenario: "accounts", Name: "logins", Unit: "logins/s", Better: "higher", B: 10, HasB: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Compare:\n got %+v\nwant %+v", got, want)
	}
	var buf bytes.Buffer
	if err := WriteCompare(&buf, a, b); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"A: hearth", "B: other", "2.00", "1600", "logins", "A better", "B better"} {
		if !strings.Contains(out, want) {
			t.Errorf("compare output lacks %q:\n%s", want, out)
		}
	}
}

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{3, "3"}, {871.04, "871.0"}, {0.04446123, "0.04446"}, {21.3812, "21.38"},
		{math.NaN(), "NaN"}, {0.0000001, "0.000000"},
	} {
		if got := FormatValue(tc.v); got != tc.want {
			t.Errorf("FormatValue(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestPercentile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3, 6, 7, 8, 9, 10}
	for _, tc := range []struct{ q, want float64 }{{50, 5}, {95, 10}, {99, 10}, {10, 1}, {0, 1}} {
		if got := percentile(xs, tc.q); got != tc.want {
			t.Errorf("percentile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if !math.IsNaN(percentile(nil, 50)) {
		t.Error("percentile of nothing is not NaN")
	}
}

func TestParseStatCPU(t *testing.T) {
	// Field 2 holds a name with spaces and a ')' of its own.
	line := "1234 (we ird) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 8 0 100 1000 200"
	got, err := parseStatCPU(line)
	if err != nil {
		t.Fatal(err)
	}
	if got != 3.25 {
		t.Errorf("cpu %v, want 3.25", got)
	}
	if _, err := parseStatCPU("1234 (x) S 1"); err == nil {
		t.Error("short line parsed")
	}
}

func TestInterleave(t *testing.T) {
	in := []membership{{Room: "a"}, {Room: "a"}, {Room: "b"}, {Room: "b"}, {Room: "c"}}
	var got []string
	for _, m := range interleave(in, 2) {
		got = append(got, m.Room)
	}
	if want := []string{"a", "b", "c", "a", "b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("interleave %v, want %v", got, want)
	}
}

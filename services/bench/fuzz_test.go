package bench

import (
	"bytes"
	"testing"
)

// FuzzParseRun: result files are read back for compare; any input must be
// rejected or parse into a run that prints and compares without panicking.
func FuzzParseRun(f *testing.F) {
	var b bytes.Buffer
	f.Add([]byte(`{"figures":[{"scenario":"latency","name":"p50","value":4,"unit":"ms"}],"params":{"idle_wait":"10s"}}`))
	f.Add([]byte(`{"figures":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRun(data)
		if err != nil {
			return
		}
		b.Reset()
		if err := WriteTable(&b, r); err != nil {
			t.Fatal(err)
		}
		if got := Compare(r, r); len(got) > len(r.Figures) {
			t.Fatalf("compare of a run with itself has %d rows for %d figures", len(got), len(r.Figures))
		}
	})
}

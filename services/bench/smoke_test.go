package bench

import (
	"context"
	"math"
	"os"
	"slices"
	"testing"
	"time"
)

// smokeParams shrink every scenario to a few requests: the smoke test
// checks that the suite runs end to end, not how fast anything is.
func smokeParams() Params {
	return Params{
		IdleWait:     Duration(time.Second),
		LatencyUsers: 3, LatencyMessages: 5,
		ThroughputDuration: Duration(time.Second), ThroughputSenders: 2, ThroughputRooms: 3, ThroughputSyncers: 1,
		DatasetUsers: 3, DatasetRooms: 3, DatasetMembers: 3, DatasetMessages: 1,
		PaginationEvents:  150,
		FederationMembers: 3,
		Accounts:          3,
		Concurrency:       4,
	}
}

// TestSmoke builds Hearth, runs every scenario against it in miniature
// and checks that each produced its figures with sane units; a second
// run in the same directory reuses the data sets.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts hearth")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin, err := BuildHearth(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	opts := Options{Params: smokeParams(), HearthBin: bin, Dir: dir}
	if testing.Verbose() {
		opts.Progress = os.Stderr
	}
	r, err := Execute(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	checkRun(t, r, true)

	// Again, on the same store: every data set is reused.
	opts.Scenarios = []string{"initial_sync", "latency", "pagination"}
	r, err = Execute(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	checkRun(t, r, false)
	if hasFigure(r, "initial_sync", "dataset_create") {
		t.Error("second run created the initial sync data set again")
	}
}

var sane = map[string][]string{
	"idle":            {"MiB", "s", "% of a core"},
	"initial_sync":    {"s", "MiB"},
	"latency":         {"ms"},
	"throughput":      {"msg/s", "requests", "CPU s/1000 msg"},
	"pagination":      {"events/s", "ms/page"},
	"accounts":        {"accounts/s", "logins/s"},
	"federation_join": {"s", "MiB"},
}

func checkRun(t *testing.T, r *Run, all bool) {
	t.Helper()
	for _, s := range r.Skipped {
		t.Errorf("skipped %s: %s", s.Scenario, s.Reason)
	}
	seen := map[string]int{}
	for _, f := range r.Figures {
		seen[f.Scenario]++
		if !slices.Contains(sane[f.Scenario], f.Unit) {
			t.Errorf("%s/%s: unit %q", f.Scenario, f.Name, f.Unit)
		}
		if math.IsNaN(f.Value) || math.IsInf(f.Value, 0) || f.Value < 0 {
			t.Errorf("%s/%s: value %v", f.Scenario, f.Name, f.Value)
		}
	}
	want := map[string]int{"idle": 5, "initial_sync": 7, "latency": 3, "throughput": 4, "pagination": 2, "accounts": 2, "federation_join": 4}
	if !all {
		want = map[string]int{"initial_sync": 6, "latency": 3, "pagination": 2}
	}
	for s, n := range want {
		if seen[s] != n {
			t.Errorf("scenario %s: %d figures, want %d", s, seen[s], n)
		}
	}
	if r.Server.Version == "" || r.Machine.Cores == 0 {
		t.Errorf("server %+v machine %+v", r.Server, r.Machine)
	}
}

func hasFigure(r *Run, scenario, name string) bool {
	for _, f := range r.Figures {
		if f.Scenario == scenario && f.Name == name {
			return true
		}
	}
	return false
}

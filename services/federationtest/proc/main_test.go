package proc

import (
	"os"
	"sync"
	"testing"
	"time"
)

// built is the hearth binary, compiled once per test binary on first use
// (so that go test -run=^$ -fuzz=... does not pay for it).
var built struct {
	once     sync.Once
	dir, bin string
	err      error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// hearthBinary builds hearth (once) and returns its path. The tests that
// run processes are skipped under -short.
func hearthBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs hearth processes; skipped with -short")
	}
	built.once.Do(func() {
		start := time.Now()
		if built.dir, built.err = os.MkdirTemp("", "hearth-proc-"); built.err != nil {
			return
		}
		built.bin, built.err = Build(built.dir)
		t.Logf("built hearth in %v", time.Since(start).Round(time.Millisecond))
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

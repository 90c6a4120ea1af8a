package niotest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"hearth/services/homeserver/crashtest"
)

// python is Debian's interpreter: the one that sees python3-matrix-nio
// (a pyenv python3 earlier on PATH would not).
const python = "/usr/bin/python3"

func TestNioScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the hearth binary and a Python client; skipped with -short")
	}
	if out, err := exec.Command(python, "-c", "import nio").CombinedOutput(); err != nil {
		msg := "matrix-nio is not importable by " + python + " (install it with .ci/install-nio, i.e. apt-get install python3-matrix-nio): " + err.Error() + "\n" + string(out)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	bin := crashtest.Build(t)
	p := crashtest.Start(t, bin, filepath.Join(t.TempDir(), "data"))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, python, "scenario.py", p.Base)
	out, err := cmd.CombinedOutput()
	t.Logf("scenario.py (%v):\n%s", time.Since(start).Round(time.Millisecond), out)
	if err != nil {
		t.Fatalf("scenario.py failed: %v", err)
	}
}

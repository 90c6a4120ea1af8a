package proc

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Build compiles the hearth binary into dir and returns its path. It runs
// go build from the current directory, which for a test is inside the
// hearth module. Build it once per test binary (TestMain, or a sync.Once
// in the test file): a build takes seconds, a start milliseconds.
func Build(dir string) (string, error) {
	bin := filepath.Join(dir, "hearth")
	cmd := exec.Command("go", "build", "-o", bin, "hearth/appliance/hearth")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("proc: go build hearth: %w\n%s", err, out)
	}
	return bin, nil
}

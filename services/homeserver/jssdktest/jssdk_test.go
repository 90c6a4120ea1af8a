package jssdktest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"hearth/services/homeserver/crashtest"
)

func TestJSSDKScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the hearth binary and matrix-js-sdk under node; skipped with -short")
	}
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join("node_modules", "matrix-js-sdk", "package.json"))
	}
	if err != nil {
		msg := "node or matrix-js-sdk missing (install it with .ci/install-jssdk, i.e. npm ci in services/homeserver/jssdktest): " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	bin := crashtest.Build(t)
	p := crashtest.Start(t, bin, filepath.Join(t.TempDir(), "data"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, node, "scenario.mjs", p.Base)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("scenario.mjs (%v):\n%s", time.Since(start).Round(time.Millisecond), out)
	if ctx.Err() != nil {
		t.Fatalf("scenario.mjs did not finish within 2 minutes: %v", err)
	}
	if err != nil {
		t.Fatalf("scenario.mjs failed: %v", err)
	}
}

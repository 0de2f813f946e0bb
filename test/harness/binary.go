// Package harness starts the real Gatehouse binary for end-to-end tests:
// the Caddy build that ./xcaddy.sh produces, run with a real Caddyfile,
// real data files and real listeners on loopback.
package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// BinaryEnv names the environment variable holding the path of a built
// Gatehouse Caddy binary (test/all.sh sets it to ./caddy as built by
// ./xcaddy.sh). Without it, the binary is built from plugins/cmd/caddy,
// which compiles in the same modules.
const BinaryEnv = "GATEHOUSE_CADDY_BIN"

var (
	buildOnce sync.Once
	builtPath string
	buildErr  error
)

// Binary returns the path of the Gatehouse Caddy binary, building it once
// per test process when BinaryEnv is not set.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(BinaryEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v", BinaryEnv, p, err)
		}
		return p
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gatehouse-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtPath = filepath.Join(dir, "caddy")
		cmd := exec.Command("go", "build", "-o", builtPath, "./plugins/cmd/caddy")
		cmd.Dir = RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building caddy: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtPath
}

// RepoRoot is the repository's top directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

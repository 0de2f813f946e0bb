package e2e

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-gw/gatehouse/test/harness"
)

// TestReadmeRunCommand runs README's first command exactly as written, in
// a fresh copy of the repository's tracked files (as a clone would have
// them), with the default data directory; then the seed document's first
// two requests, then Ctrl-C. The other tests run the binary that command
// builds; this one proves the command itself.
func TestReadmeRunCommand(t *testing.T) {
	command := readmeCommand(t, 0)
	if command != "./xcaddy.sh run" {
		t.Logf("README's run command is now %q", command)
	}
	clone := copyTrackedFiles(t)
	s := startWith(t, filepath.Join(clone, "data"), harness.Options{
		Dir:          clone,
		Command:      strings.Fields(command),
		StartTimeout: 5 * time.Minute, // it builds ./caddy first
	})
	if s.creds.Issuer != issuer {
		t.Errorf("issuer %q, want %q", s.creds.Issuer, issuer)
	}
	tok := adminToken(t, s.creds, "admin.read").AccessToken
	if r := call(t, newGet(clientsURL, "Authorization", "Bearer "+tok)); r.status != http.StatusOK {
		t.Errorf("admin API with the demo admin's token: %d %s", r.status, r.body)
	}
	if r := call(t, posLookup(s.creds.POSKey.APIKey)); r.status != http.StatusOK {
		t.Errorf("POS lookup with the demo key: %d %s", r.status, r.body)
	}
	s.stop(t)
}

// readmeCommand returns the command of line n of README's first shell
// block, without its comment.
func readmeCommand(t *testing.T, n int) string {
	t.Helper()
	f, err := os.Open(filepath.Join(harness.RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var block []string
	in := false
	for sc := bufio.NewScanner(f); sc.Scan(); {
		line := sc.Text()
		switch {
		case !in && strings.HasPrefix(line, "```sh"):
			in = true
		case in && strings.HasPrefix(line, "```"):
			in = false
			if len(block) <= n {
				t.Fatalf("README's first shell block has %d lines", len(block))
			}
			cmd, _, _ := strings.Cut(block[n], "#")
			return strings.TrimSpace(cmd)
		case in:
			block = append(block, line)
		}
	}
	t.Fatal("README.md has no shell block")
	return ""
}

// copyTrackedFiles copies the files git tracks (and new ones it does not
// ignore) into a temporary directory: what a clone of this work tree holds.
func copyTrackedFiles(t *testing.T) string {
	t.Helper()
	root := harness.RepoRoot()
	out, err := exec.Command("git", "-C", root, "ls-files", "-co", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	dst := t.TempDir()
	for _, name := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		src := filepath.Join(root, name)
		info, err := os.Lstat(src)
		if err != nil {
			continue // deleted in the work tree
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(dst, name)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, data, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

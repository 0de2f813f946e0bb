package backup_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-gw/gatehouse/authserver/store"
	_ "github.com/gatehouse-gw/gatehouse/caddymodule/backup"
	"github.com/gatehouse-gw/gatehouse/caddymodule/gatehousecmd"
	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

// gatehouseCmd runs `caddy gatehouse args...` in-process.
func gatehouseCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := gatehousecmd.New()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(t.Context())
	return out.String(), err
}

// backupDir makes a backup directory as `caddy gatehouse backup` would:
// a key store holding one client, and an authserver store.
func backupDir(t *testing.T) (dir, clientID string) {
	t.Helper()
	dir = t.TempDir()
	ks, err := keystore.Open(filepath.Join(dir, "keys-keys.db"), keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, _, _, err := ks.Create(t.Context(), keystore.NewClient{Name: "in the backup"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenBolt(filepath.Join(dir, "authserver-authserver.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, c.ID
}

func TestRestoreIntoNewDataDirectory(t *testing.T) {
	from, id := backupDir(t)
	// Leftovers of an interrupted backup, and unrelated files, are not restored.
	if err := os.WriteFile(filepath.Join(from, ".keys-keys.db.partial-1"), []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(from, "README"), []byte("notes"), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(t.TempDir(), "data")
	out, err := gatehouseCmd(t, "restore", "--from", from, "--data-dir", dataDir)
	if err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		if info, _ := e.Info(); info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
	}
	if strings.Join(names, " ") != "authserver.db keys.db" {
		t.Fatalf("data directory holds %v", names)
	}
	ks, err := keystore.Open(filepath.Join(dataDir, "keys.db"), keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	if _, err := ks.Get(t.Context(), id); err != nil {
		t.Fatalf("client of the backup after restore: %v", err)
	}
}

// TestRestoreChangesNothingOnBadInput: a damaged backup file, or a
// directory without backup files, leaves the data directory as it was.
func TestRestoreChangesNothingOnBadInput(t *testing.T) {
	from, _ := backupDir(t)
	if err := os.WriteFile(filepath.Join(from, "authserver-authserver.db"), []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	live := []byte("the current keys.db")
	if err := os.WriteFile(filepath.Join(dataDir, "keys.db"), live, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"restore", "--from", from, "--data-dir", dataDir},
		{"restore", "--from", t.TempDir(), "--data-dir", dataDir},
		{"restore", "--from", filepath.Join(from, "missing"), "--data-dir", dataDir},
	} {
		if out, err := gatehouseCmd(t, args...); err == nil {
			t.Errorf("%v succeeded:\n%s", args, out)
		}
		entries, _ := os.ReadDir(dataDir)
		got, _ := os.ReadFile(filepath.Join(dataDir, "keys.db"))
		if len(entries) != 1 || !bytes.Equal(got, live) {
			t.Fatalf("%v changed the data directory: %d entries", args, len(entries))
		}
	}
}

// TestRestoreRefusesAFileInUse: a store file held open (here by this
// process, as a running Gatehouse would) is not replaced.
func TestRestoreRefusesAFileInUse(t *testing.T) {
	from, _ := backupDir(t)
	dataDir := t.TempDir()
	held, err := keystore.Open(filepath.Join(dataDir, "keys.db"), keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	out, err := gatehouseCmd(t, "restore", "--from", from, "--data-dir", dataDir, "--lock-timeout", "100ms")
	if err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("restore over a held file: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "authserver.db")); !os.IsNotExist(err) {
		t.Fatal("a refused restore restored the other file")
	}
}

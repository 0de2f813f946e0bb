package keyscmd_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-gw/gatehouse/caddymodule/gatehousecmd"
	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
	_ "github.com/gatehouse-gw/gatehouse/caddymodule/keystore/keyscmd"
)

// run executes `gatehouse args...` in-process, as `caddy gatehouse` would.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := gatehousecmd.New()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(t.Context())
	return out.String(), err
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := run(t, args...)
	if err != nil {
		t.Fatalf("gatehouse %s: %v", strings.Join(args, " "), err)
	}
	return out
}

type view struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
	Status    string   `json:"status"`
	KeyPrefix string   `json:"key_prefix"`
	ExpiresAt *string  `json:"expires_at"`
	Rotation  *struct {
		PreviousKeyPrefix string `json:"previous_key_prefix"`
	} `json:"rotation"`
	APIKey string `json:"api_key"`
}

func decode(t *testing.T, out string) view {
	t.Helper()
	var v view
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	return v
}

func openStore(t *testing.T, path string) *keystore.BoltStore {
	t.Helper()
	s, err := keystore.Open(path, keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestKeysLifecycle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "keys.db")
	store := []string{"--store", path, "--json"}

	created := decode(t, mustRun(t, append([]string{"keys", "create", "--name", "POS 1", "--scopes", "pos.read,pos.write",
		"--expires", "2099-01-01T00:00:00Z", "--prefix", "pos_live_"}, store...)...))
	if !strings.HasPrefix(created.APIKey, "pos_live_") || created.Status != "active" ||
		strings.Join(created.Scopes, " ") != "pos.read pos.write" || created.ExpiresAt == nil ||
		created.KeyPrefix != created.APIKey[:len("pos_live_")+8] {
		t.Fatalf("create printed %+v", created)
	}

	got := mustRun(t, append([]string{"keys", "get", created.ID}, store...)...)
	if strings.Contains(got, created.APIKey[len(created.KeyPrefix):]) || decode(t, got).APIKey != "" {
		t.Fatal("get printed the key")
	}
	listed := mustRun(t, append([]string{"keys", "list"}, store...)...)
	if !strings.Contains(listed, created.ID) || strings.Contains(listed, created.APIKey[len(created.KeyPrefix):]) {
		t.Fatalf("list: %s", listed)
	}

	rotated := decode(t, mustRun(t, append([]string{"keys", "rotate", created.ID, "--grace", "1h"}, store...)...))
	if rotated.APIKey == "" || rotated.APIKey == created.APIKey || rotated.Rotation == nil ||
		rotated.Rotation.PreviousKeyPrefix != created.KeyPrefix {
		t.Fatalf("rotate printed %+v", rotated)
	}
	if v := decode(t, mustRun(t, append([]string{"keys", "disable", created.ID}, store...)...)); v.Status != "disabled" {
		t.Fatalf("disable printed %+v", v)
	}
	out := mustRun(t, "keys", "list", "--store", path, "--status", "disabled", "--json")
	var page struct{ Clients []view }
	if err := json.Unmarshal([]byte(out), &page); err != nil || len(page.Clients) != 1 || page.Clients[0].ID != created.ID {
		t.Fatalf("list --status disabled: %s", out)
	}

	// The CLI's changes are in the file, as the gateway will read them.
	s := openStore(t, path)
	old, slot, err := s.Lookup(t.Context(), keystore.HashKey(created.APIKey))
	if err != nil || slot != keystore.SlotRetiring || old.Status != keystore.StatusDisabled {
		t.Fatalf("old key after rotate --grace: %v %v %v", slot, old.Status, err)
	}
	if _, slot, err := s.Lookup(t.Context(), keystore.HashKey(rotated.APIKey)); err != nil || slot != keystore.SlotCurrent {
		t.Fatalf("new key: %v %v", slot, err)
	}
	audit, err := s.Audit(t.Context(), keystore.AuditQuery{})
	if err != nil || len(audit.Entries) != 3 {
		t.Fatalf("audit: %d entries, %v", len(audit.Entries), err)
	}
	for _, e := range audit.Entries {
		if !strings.HasPrefix(e.Actor.Subject, "cli") {
			t.Fatalf("CLI change recorded as made by %q", e.Actor.Subject)
		}
	}
	s.Close()

	mustRun(t, "keys", "enable", created.ID, "--store", path)
	if out := mustRun(t, "keys", "delete", created.ID, "--store", path); !strings.Contains(out, "deleted "+created.ID) {
		t.Fatalf("delete printed %q", out)
	}
	if _, err := run(t, "keys", "get", created.ID, "--store", path); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
}

func TestKeysCreatePrintsTheKeyOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	out := mustRun(t, "keys", "create", "--store", path, "--name", "terminal", "--scopes", "pos")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	key := lines[len(lines)-1]
	if !strings.HasPrefix(key, keystore.DefaultKeyPrefix) || !strings.Contains(out, "shown only this once") {
		t.Fatalf("create printed:\n%s", out)
	}
	s := openStore(t, path)
	defer s.Close()
	if err := s.KeyFormat().Check(key); err != nil {
		t.Fatalf("printed key: %v", err)
	}
	if _, _, err := s.Lookup(t.Context(), keystore.HashKey(key)); err != nil {
		t.Fatalf("printed key not found: %v", err)
	}
}

func TestKeysRefusesBadInputAndChangesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	mustRun(t, "keys", "create", "--store", path, "--name", "existing")
	for _, args := range [][]string{
		{"keys", "create", "--store", path},
		{"keys", "create", "--store", path, "--name", "x", "--scopes", "a b"},
		{"keys", "create", "--store", path, "--name", "x", "--expires", "tomorrow"},
		{"keys", "create", "--store", path, "--name", "x", "--expires", "2001-01-01T00:00:00Z"},
		{"keys", "create", "--store", path, "--name", "x", "--prefix", "other_"},
		{"keys", "rotate", "cl_missing", "--store", path},
		{"keys", "rotate", "--store", path},
		{"keys", "list", "--store", path, "--status", "gone"},
		{"keys", "list"},
	} {
		if _, err := run(t, args...); err == nil {
			t.Errorf("gatehouse %s succeeded", strings.Join(args, " "))
		}
	}
	s := openStore(t, path)
	defer s.Close()
	if page, err := s.List(t.Context(), keystore.ListOptions{}); err != nil || len(page.Clients) != 1 {
		t.Fatalf("after refused commands: %d clients, %v", len(page.Clients), err)
	}
}

func TestKeysNeedAnExistingStoreExceptCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "typo.db")
	_, err := run(t, "keys", "list", "--store", path)
	if err == nil || !strings.Contains(err.Error(), "no key store") {
		t.Fatalf("list of a missing file: %v", err)
	}
	if _, err := run(t, "keys", "create", "--store", path, "--name", "first"); err != nil {
		t.Fatalf("create of a new file: %v", err)
	}
}

func TestKeysExplainALockedStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	gateway := openStore(t, path) // as a running gateway holds it
	defer gateway.Close()
	start := time.Now()
	_, err := run(t, "keys", "list", "--store", path, "--lock-timeout", "100ms")
	if !errors.Is(err, keystore.ErrLocked) || !strings.Contains(err.Error(), "admin API") {
		t.Fatalf("list of a locked store: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("--lock-timeout was not honoured")
	}
}

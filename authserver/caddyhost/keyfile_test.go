package caddyhost

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-gw/gatehouse/authserver/command"
	"github.com/gatehouse-gw/gatehouse/authserver/keys"
)

// TestKeyFileFromEnvironment: with no key_encryption_key_file option, the
// handler reads the secret from the file named by
// $GATEHOUSE_KEY_ENCRYPTION_KEY_FILE, as the management commands do, so
// one environment serves both.
func TestKeyFileFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "kek")
	if err := os.WriteFile(secretFile, []byte(strings.Repeat("k", 44)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(keys.EnvSecretFile, secretFile)
	t.Setenv(keys.EnvSecret, "")
	storePath := filepath.Join(dir, "authserver.db")
	startCaddy(t, fmt.Sprintf(`{
	admin localhost:%[1]d
	auto_https off
	persist_config off
	http_port %[2]d
}
http://localhost:%[2]d {
	gatehouse_authserver {
		issuer http://localhost:%[2]d
		store %[3]s
	}
}
`, adminPort, keyFileEnvPort, storePath))

	pooled, key, err := acquireStore(storePath)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := pooled.ListSigningKeys(t.Context())
	releaseStore(key)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || !stored[0].Encrypted {
		t.Fatalf("signing keys %+v: want one, encrypted", stored)
	}

	// The management commands, in the same environment, read the key.
	stopCaddy()
	var out bytes.Buffer
	cmd := command.New(command.Options{})
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs([]string{"keys", "list", "--store", storePath})
	if err := cmd.ExecuteContext(t.Context()); err != nil {
		t.Fatalf("keys list: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), stored[0].ID) || !strings.Contains(out.String(), "true") {
		t.Fatalf("keys list:\n%s", out.String())
	}
}

package keys_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-gw/gatehouse/authserver/keys"
)

// TestLoadSecretSources checks the order every host reads the secret in:
// the configured file, then $GATEHOUSE_KEY_ENCRYPTION_KEY_FILE, then
// $GATEHOUSE_KEY_ENCRYPTION_KEY; and that a source that is set but bad
// is an error, never a fallback.
func TestLoadSecretSources(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	fromOption := strings.Repeat("o", 40)
	fromEnvFile := strings.Repeat("f", 40)
	fromEnv := strings.Repeat("e", 40)
	optionFile := write("option", fromOption+"\n")
	envFile := write("env", "  "+fromEnvFile+"\n")

	cases := []struct {
		name, option, envFile, env string
		want                       string // "" with wantErr false: no secret
		wantErr                    bool
	}{
		{name: "nothing configured"},
		{name: "secret in the environment", env: fromEnv, want: fromEnv},
		{name: "file in the environment", envFile: envFile, env: fromEnv, want: fromEnvFile},
		{name: "configured file first", option: optionFile, envFile: envFile, env: fromEnv, want: fromOption},
		{name: "missing file", envFile: filepath.Join(dir, "missing"), env: fromEnv, wantErr: true},
		{name: "empty file", option: write("empty", "\n"), env: fromEnv, wantErr: true},
		{name: "short secret", env: "too-short", wantErr: true},
		{name: "short file", envFile: write("short", "too-short"), wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(keys.EnvSecretFile, c.envFile)
			t.Setenv(keys.EnvSecret, c.env)
			got, err := keys.LoadSecret(c.option)
			switch {
			case c.wantErr && err == nil:
				t.Fatalf("accepted, secret %d bytes", len(got))
			case !c.wantErr && err != nil:
				t.Fatal(err)
			case string(got) != c.want:
				t.Fatalf("secret %q, want %q", got, c.want)
			}
			if err != nil && (strings.Contains(err.Error(), fromEnv) || strings.Contains(err.Error(), "too-short")) {
				t.Fatalf("the error shows the secret: %v", err)
			}
		})
	}
}

package keys

import (
	"fmt"
	"os"
	"strings"
)

// Environment variables that carry the key-encryption secret, read by
// every host of the authserver (the gatehouse_authserver handler, the
// standalone command and the management commands) in the same order.
const (
	// EnvSecretFile names a file holding the secret.
	EnvSecretFile = "GATEHOUSE_KEY_ENCRYPTION_KEY_FILE"
	// EnvSecret holds the secret itself.
	EnvSecret = "GATEHOUSE_KEY_ENCRYPTION_KEY"
)

// LoadSecret returns the key-encryption secret from the first source set:
// file (a configured path), then the file named by $GATEHOUSE_KEY_ENCRYPTION_KEY_FILE,
// then $GATEHOUSE_KEY_ENCRYPTION_KEY. A file's surrounding white space is
// dropped. Nil, nil means none is configured: keys are stored unencrypted.
// A source that is set but unreadable, or a secret shorter than
// MinSecretLength, is an error rather than a silent fallback to the next
// source, which would encrypt under a secret the operator did not mean.
func LoadSecret(file string) ([]byte, error) {
	source := "key-encryption secret file"
	if file == "" {
		file, source = os.Getenv(EnvSecretFile), "$"+EnvSecretFile
	}
	var secret string
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("reading the key-encryption secret (%s): %w", source, err)
		}
		secret = strings.TrimSpace(string(b))
		if secret == "" {
			return nil, fmt.Errorf("the key-encryption secret file %s (%s) is empty", file, source)
		}
	} else {
		secret, source = os.Getenv(EnvSecret), "$"+EnvSecret
		if secret == "" {
			return nil, nil
		}
	}
	if len(secret) < MinSecretLength {
		return nil, fmt.Errorf("the key-encryption secret (%s) must have at least %d characters (try: openssl rand -base64 32)", source, MinSecretLength)
	}
	return []byte(secret), nil
}

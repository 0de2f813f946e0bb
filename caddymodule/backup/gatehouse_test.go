package backup_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-gw/gatehouse/test/harness"
)

// The ports of this package's tests (the lead's port plan): Caddy's
// admin endpoint on 3171, the root Caddyfile's sites on 9171-9175.
const (
	adminAddr  = "localhost:3171"
	issuer     = "http://localhost:9171"
	tokenURL   = issuer + "/connect/token"
	revokeURL  = issuer + "/connect/revocation"
	clientsURL = "http://localhost:9172/admin/api/v1/clients"
	posURL     = "http://localhost:9173/pos/api/v1/members/lookup?phone=5551234567"
)

// gatehouse is the built binary running the root Caddyfile, as README
// starts it, on this package's ports and a data directory of the test's.
type gatehouse struct {
	proc    *harness.Process
	dataDir string
}

// environment is what moves the root Caddyfile onto this package's ports.
func environment(dataDir string) []string {
	return []string{
		"GATEHOUSE_ADMIN_ADDR=" + adminAddr,
		"GATEHOUSE_AUTH_PORT=9171",
		"GATEHOUSE_ISSUER=" + issuer,
		"GATEHOUSE_AUDIENCE=" + issuer + "/resources",
		"GATEHOUSE_ADMIN_API_PORT=9172",
		"GATEHOUSE_POS_PORT=9173",
		"GATEHOUSE_STANDIN_ADMIN_PORT=9174",
		"GATEHOUSE_STANDIN_POS_PORT=9175",
		"GATEHOUSE_ADMIN_UPSTREAM=127.0.0.1:9174",
		"GATEHOUSE_POS_UPSTREAM=127.0.0.1:9175",
		"GATEHOUSE_DATA_DIR=" + dataDir,
	}
}

// startGatehouse runs the root Caddyfile on dataDir and waits until the
// authserver issues tokens.
func startGatehouse(t *testing.T, dataDir string, creds credentials) *gatehouse {
	t.Helper()
	proc := harness.Start(t, harness.Options{
		Config: filepath.Join(harness.RepoRoot(), "Caddyfile"),
		Env:    environment(dataDir),
		Admin:  adminAddr,
	})
	g := &gatehouse{proc: proc, dataDir: dataDir}
	if creds.AdminClient.ClientID != "" {
		g.waitToken(t, creds)
	}
	return g
}

// credentials is the part of demo-credentials.json these tests use.
type credentials struct {
	AdminClient struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	} `json:"admin_client"`
	POSKey struct {
		APIKey string `json:"api_key"`
	} `json:"pos_key"`
}

// demoCredentials waits for the first start's demo credentials and
// then for the authserver to issue tokens with them.
func (g *gatehouse) demoCredentials(t *testing.T) credentials {
	t.Helper()
	var creds credentials
	g.poll(t, "demo credentials", func() error {
		raw, err := os.ReadFile(filepath.Join(g.dataDir, "demo-credentials.json"))
		if err != nil {
			return err
		}
		return json.Unmarshal(raw, &creds)
	})
	g.waitToken(t, creds)
	return creds
}

func (g *gatehouse) waitToken(t *testing.T, creds credentials) {
	t.Helper()
	g.poll(t, "a token from the authserver", func() error {
		_, err := token(creds)
		return err
	})
}

// poll retries check every 100ms for up to 30s, while the process runs.
func (g *gatehouse) poll(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if g.proc.Exited() || time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v\nlogs:\n%s", what, err, g.proc.Logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var client = &http.Client{Timeout: 10 * time.Second}

// do sends req and returns the status and body.
func do(req *http.Request) (int, []byte, error) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}

// token gets an access token for the demo admin client.
func token(creds credentials) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"admin.read admin.write"}}
	req, _ := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(creds.AdminClient.ClientID, creds.AdminClient.ClientSecret)
	status, body, err := do(req)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("token endpoint answered %d: %s", status, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

// revoke revokes an access token at the authserver (one write to its
// store) and returns the token's jti.
func revoke(creds credentials, accessToken string) (string, error) {
	form := url.Values{"token": {accessToken}, "token_type_hint": {"access_token"}}
	req, _ := http.NewRequest(http.MethodPost, revokeURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(creds.AdminClient.ClientID, creds.AdminClient.ClientSecret)
	status, body, err := do(req)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("revocation endpoint answered %d: %s", status, body)
	}
	return jwtID(accessToken)
}

// jwtID reads the jti claim of a JWT the authserver issued; the
// signature is the authserver's business, not this test's.
func jwtID(jwt string) (string, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "", errors.New("not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var claims struct {
		ID string `json:"jti"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.ID == "" {
		return "", fmt.Errorf("no jti in the token: %v", err)
	}
	return claims.ID, nil
}

// apiKey is a client created through the admin API.
type apiKey struct {
	ID     string `json:"id"`
	APIKey string `json:"api_key"`
}

// createKey creates an API-key client through the admin API (one write
// to the key store).
func createKey(accessToken, name string) (apiKey, error) {
	req, _ := http.NewRequest(http.MethodPost, clientsURL, strings.NewReader(`{"name": "`+name+`", "scopes": ["pos.read"]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+accessToken)
	status, body, err := do(req)
	if err != nil {
		return apiKey{}, err
	}
	if status != http.StatusCreated {
		return apiKey{}, fmt.Errorf("create answered %d: %s", status, body)
	}
	var k apiKey
	return k, json.Unmarshal(body, &k)
}

// posLookup calls the POS route with an API key and returns the status.
func posLookup(key string) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, posURL, nil)
	req.Header.Set("X-Api-Key", key)
	status, _, err := do(req)
	return status, err
}

// runCLI runs the built binary with args, as an operator would, and
// returns its combined output and exit error.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return runCLIWithEnv(t, nil, args...)
}

// runCLIWithEnv is runCLI with env added to the environment.
func runCLIWithEnv(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(harness.Binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

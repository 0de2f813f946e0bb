package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-gw/gatehouse/test/harness"
)

// The addresses of the default start, as the seed document gives them.
const (
	issuer         = "http://localhost:5000"
	tokenURL       = issuer + "/connect/token"
	authorizeURL   = issuer + "/connect/authorize"
	clientsURL     = "http://localhost:5001/admin/api/v1/clients"
	adminEchoURL   = "http://localhost:5001/admin/api/v1/orders"
	posLookupURL   = "http://localhost:5003/pos/api/v1/members/lookup?phone=5551234567"
	portalCallback = "http://localhost:3001/api/auth/callback/rsa"
	lookupPhone    = "5551234567"
)

// defaultListeners is every address the default start listens on: the
// authserver, the admin API, the POS route, the two stand-ins and Caddy's
// admin endpoint.
var defaultListeners = []string{
	"localhost:5000", "localhost:5001", "localhost:5003",
	"localhost:5101", "localhost:5103", "localhost:2019",
}

// demoCredentials is demo-credentials.json with exactly the shape that
// issue 5 gives; decoding refuses any other key.
type demoCredentials struct {
	Issuer      string `json:"issuer"`
	AdminClient struct {
		ClientID     string   `json:"client_id"`
		ClientSecret string   `json:"client_secret"`
		Scopes       []string `json:"scopes"`
	} `json:"admin_client"`
	PortalClient struct {
		ClientID    string `json:"client_id"`
		RedirectURI string `json:"redirect_uri"`
	} `json:"portal_client"`
	User struct {
		Username string `json:"username"`
		Password string `json:"password"`
	} `json:"user"`
	POSKey struct {
		ID     string `json:"id"`
		APIKey string `json:"api_key"`
	} `json:"pos_key"`
}

// system is one running default start.
type system struct {
	proc    *harness.Process
	dataDir string
	creds   demoCredentials
	// credsFile is demo-credentials.json as read after the start.
	credsFile []byte
}

// startSystem runs README's start on dataDir and waits until every track
// answers: the demo credentials are written, the token endpoint issues
// tokens and the bearer track has the issuer's keys. The process stops
// (SIGINT) when the test ends.
func startSystem(t *testing.T, dataDir string) *system {
	t.Helper()
	return startWith(t, dataDir, harness.Options{
		Config: filepath.Join(harness.RepoRoot(), "Caddyfile"),
		Env:    []string{"GATEHOUSE_DATA_DIR=" + dataDir},
	})
}

// startWith starts the default system as opts say and waits for it as
// startSystem does; dataDir is where it keeps its data.
func startWith(t *testing.T, dataDir string, opts harness.Options) *system {
	t.Helper()
	requireDefaultEnvironment(t)
	requireListenersFree(t)
	proc := harness.Start(t, opts)
	s := &system{proc: proc, dataDir: dataDir}
	s.credsFile, s.creds = waitCredentials(t, proc, filepath.Join(dataDir, "demo-credentials.json"))
	s.waitReady(t)
	return s
}

// stop interrupts the process as Ctrl-C would and checks it exited cleanly.
func (s *system) stop(t *testing.T) {
	t.Helper()
	s.proc.Stop()
	if err := s.proc.ExitErr(); err != nil {
		t.Errorf("caddy exited with %v after SIGINT\nlogs:\n%s", err, s.proc.Logs())
	}
}

// requireDefaultEnvironment refuses to run when the environment would
// change the default start: every address and path of the root Caddyfile
// comes from GATEHOUSE_* variables.
func requireDefaultEnvironment(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "GATEHOUSE_") && name != harness.BinaryEnv {
			t.Fatalf("%s is set; the end-to-end tests run the default start and need it unset", name)
		}
	}
}

// requireListenersFree fails when something else holds a port of the
// default start, which would answer in Gatehouse's place. A process of
// the previous test has had its Stop; give the kernel a moment anyway.
func requireListenersFree(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, addr := range defaultListeners {
		if err := harness.WaitPortFree(ctx, addr); err != nil {
			t.Fatalf("another process listens on %s (%v); the end-to-end tests need the default ports", addr, err)
		}
	}
}

// waitCredentials waits for the demo credentials file, which the
// authserver writes while Caddy provisions it (after the admin endpoint
// answers), and decodes it strictly.
func waitCredentials(t *testing.T, proc *harness.Process, path string) ([]byte, demoCredentials) {
	t.Helper()
	var raw []byte
	err := poll(30*time.Second, proc, func() error {
		var err error
		raw, err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatalf("demo credentials: %v\nlogs:\n%s", err, proc.Logs())
	}
	var creds demoCredentials
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&creds); err != nil {
		t.Fatalf("demo-credentials.json does not have the documented shape: %v\n%s", err, raw)
	}
	return raw, creds
}

// waitReady waits until the admin client gets a token and the bearer
// track, which fetches the issuer's keys shortly after the start, stops
// answering 503.
func (s *system) waitReady(t *testing.T) {
	t.Helper()
	var token string
	err := poll(30*time.Second, s.proc, func() error {
		r, err := send(newForm(tokenURL, clientCredentialsForm(s.creds, "admin.read")))
		if err != nil {
			return err
		}
		if r.status != http.StatusOK {
			return fmt.Errorf("token endpoint answered %d: %s", r.status, r.body)
		}
		var tok tokenResponse
		if err := json.Unmarshal(r.body, &tok); err != nil {
			return err
		}
		token = tok.AccessToken
		return nil
	})
	if err != nil {
		t.Fatalf("token endpoint not ready: %v\nlogs:\n%s", err, s.proc.Logs())
	}
	err = poll(30*time.Second, s.proc, func() error {
		r, err := send(newGet(clientsURL, "Authorization", "Bearer "+token))
		if err != nil {
			return err
		}
		if r.status == http.StatusServiceUnavailable {
			return errors.New("bearer track still answers 503")
		}
		if r.status != http.StatusOK {
			return permanent{fmt.Errorf("admin API answered %d: %s", r.status, r.body)}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("bearer track not ready: %v\nlogs:\n%s", err, s.proc.Logs())
	}
}

// permanent marks an error that polling should not retry.
type permanent struct{ error }

// poll calls check every 100ms until it succeeds, returns a permanent
// error, the timeout passes or the process exits.
func poll(timeout time.Duration, proc *harness.Process, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		var p permanent
		if errors.As(err, &p) {
			return p.error
		}
		if proc.Exited() {
			return fmt.Errorf("caddy exited: %v", err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %w", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

package adminapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
	"github.com/gatehouse-gw/gatehouse/test/harness"
)

// crashGateway is the Gatehouse binary run with a Caddyfile that serves
// the clients API and a POS route, so that a test can kill it and start
// it again on the same key store.
type crashGateway struct {
	t          *testing.T
	dir        string
	storeFile  string
	config     string
	admin      string // the Caddy admin endpoint
	apiURL     string
	posURL     string
	adminKey   string
	proc       *harness.Process
	httpClient *http.Client
}

const crashConfig = `{
	admin %[1]s
	auto_https off
	persist_config off
}
http://127.0.0.1:%[2]d {
	gatehouse {
		api_key {
			store %[4]s
		}
		scopes admin.read
	}
	gatehouse_admin_api {
		store %[4]s
	}
}
http://127.0.0.1:%[3]d {
	gatehouse {
		api_key {
			store %[4]s
		}
		scopes pos.read
	}
	respond "ok" 200
}
`

func newCrashGateway(t *testing.T) *crashGateway {
	t.Helper()
	g := &crashGateway{t: t, dir: t.TempDir(), httpClient: &http.Client{Timeout: 10 * time.Second}}
	g.storeFile = filepath.Join(g.dir, "keys.db")
	// The admin's own key is made offline, as a bootstrap would.
	s, err := keystore.Open(g.storeFile, keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, g.adminKey, _, err = s.Create(context.Background(), keystore.NewClient{Name: "ops", Scopes: []string{"admin.read", "admin.write"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	g.admin = fmt.Sprintf("localhost:%d", freePort(t))
	apiPort, posPort := freePort(t), freePort(t)
	g.apiURL = fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	g.posURL = fmt.Sprintf("http://127.0.0.1:%d", posPort)
	g.config = filepath.Join(g.dir, "Caddyfile")
	cfg := fmt.Sprintf(crashConfig, g.admin, apiPort, posPort, g.storeFile)
	if err := os.WriteFile(g.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return g
}

// start runs the binary and waits until the API answers.
func (g *crashGateway) start() {
	g.t.Helper()
	g.proc = harness.Start(g.t, harness.Options{
		Config: g.config,
		Admin:  g.admin,
		Env:    []string{"XDG_DATA_HOME=" + g.dir, "XDG_CONFIG_HOME=" + g.dir},
	})
	if err := harness.WaitHTTP(g.apiURL, 30*time.Second, nil); err != nil {
		g.t.Fatalf("%v\nlogs:\n%s", err, g.proc.Logs())
	}
}

// call sends an admin request; err reports a transport failure.
func (g *crashGateway) call(method, path, body string) (int, []byte, error) {
	req, err := http.NewRequest(method, g.apiURL+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("X-Api-Key", g.adminKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := g.httpClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// issue sends a create or rotation and decodes the answer.
func (g *crashGateway) issue(path, body string, want int) issued {
	g.t.Helper()
	status, b, err := g.call("POST", path, body)
	if err != nil || status != want {
		g.t.Fatalf("POST %s: %d %s %v", path, status, b, err)
	}
	var out issued
	if err := json.Unmarshal(b, &out); err != nil {
		g.t.Fatal(err)
	}
	return out
}

// openStore opens the store file directly, as the truth after a crash.
func (g *crashGateway) openStore() *keystore.BoltStore {
	g.t.Helper()
	s, err := keystore.Open(g.storeFile, keystore.Options{})
	if err != nil {
		g.t.Fatalf("opening the store after the crash: %v", err)
	}
	return s
}

// checkConsistent asserts that the client's stored keys and the key index
// agree: the current key finds the client as current, a retiring key as
// retiring. A half-applied rotation would break one of these.
func checkConsistent(t *testing.T, s keystore.Store, c keystore.Client) {
	t.Helper()
	ctx := context.Background()
	got, slot, err := s.Lookup(ctx, c.Key.Hash)
	if err != nil || got.ID != c.ID || slot != keystore.SlotCurrent {
		t.Errorf("current key of %s: found %s slot %v err %v", c.ID, got.ID, slot, err)
	}
	if c.Retiring != nil {
		got, slot, err := s.Lookup(ctx, c.Retiring.Hash)
		if err != nil || got.ID != c.ID || slot != keystore.SlotRetiring {
			t.Errorf("retiring key of %s: found %s slot %v err %v", c.ID, got.ID, slot, err)
		}
	}
}

// countRotations counts the rotation audit entries of client id.
func countRotations(t *testing.T, s keystore.Store, id string) int {
	t.Helper()
	n := 0
	for cursor := ""; ; {
		page, err := s.Audit(context.Background(), keystore.AuditQuery{Target: id, After: cursor, Limit: keystore.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Entries {
			if e.Action == keystore.ActionRotate {
				n++
			}
		}
		if cursor = page.Next; cursor == "" {
			return n
		}
	}
}

// TestKilledProcessKeepsAnsweredChanges kills the gateway with SIGKILL
// right after it answered a create, a rotation without grace and one with
// grace, and once in the middle of a stream of rotations. After each kill
// the store file holds every answered change, whole.
func TestKilledProcessKeepsAnsweredChanges(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the gateway binary")
	}
	g := newCrashGateway(t)
	ctx := context.Background()

	// Create, then SIGKILL at once.
	g.start()
	c := g.issue(clientsPath, `{"name": "till", "scopes": ["pos.read"]}`, http.StatusCreated)
	g.proc.Kill()
	s := g.openStore()
	if got, slot, err := s.Lookup(ctx, keystore.HashKey(c.APIKey)); err != nil || got.ID != c.ID || slot != keystore.SlotCurrent {
		t.Fatalf("after the kill, the created key: %v", err)
	}
	s.Close()

	// Rotation without grace: the new key is current, the old one gone.
	g.start()
	r1 := g.issue(clientsPath+"/"+c.ID+"/rotate-secret", "", http.StatusOK)
	g.proc.Kill()
	s = g.openStore()
	if _, _, err := s.Lookup(ctx, keystore.HashKey(c.APIKey)); err == nil {
		t.Errorf("after the kill, the key rotated out without grace is still found")
	}
	if got, slot, err := s.Lookup(ctx, keystore.HashKey(r1.APIKey)); err != nil || got.ID != c.ID || slot != keystore.SlotCurrent {
		t.Errorf("after the kill, the new key: slot %v, %v", slot, err)
	}
	s.Close()

	// Rotation with grace: the new key current, the old one retiring.
	g.start()
	r2 := g.issue(clientsPath+"/"+c.ID+"/rotate-secret", `{"grace_period_seconds": 3600}`, http.StatusOK)
	g.proc.Kill()
	s = g.openStore()
	if _, slot, err := s.Lookup(ctx, keystore.HashKey(r1.APIKey)); err != nil || slot != keystore.SlotRetiring {
		t.Errorf("after the kill, the key in its grace period: slot %v, %v", slot, err)
	}
	if _, slot, err := s.Lookup(ctx, keystore.HashKey(r2.APIKey)); err != nil || slot != keystore.SlotCurrent {
		t.Errorf("after the kill, the new key: slot %v, %v", slot, err)
	}
	s.Close()

	// A stream of rotations, killed mid-flight.
	g.start()
	var (
		mu       sync.Mutex
		lastKey  = r2.APIKey
		answered = 0
		done     = make(chan struct{})
	)
	go func() {
		defer close(done)
		for i := 0; i < 500; i++ {
			status, b, err := g.call("POST", clientsPath+"/"+c.ID+"/rotate-secret", `{"grace_period_seconds": 3600}`)
			if err != nil || status != http.StatusOK {
				return // killed
			}
			var r issued
			if json.Unmarshal(b, &r) != nil {
				return
			}
			mu.Lock()
			lastKey, answered = r.APIKey, answered+1
			mu.Unlock()
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := answered
		mu.Unlock()
		if n >= 20 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	g.proc.Kill()
	<-done
	mu.Lock()
	acked, ackedKey := answered, lastKey
	mu.Unlock()
	if acked == 0 {
		t.Fatalf("no rotation was answered before the kill")
	}

	s = g.openStore()
	stored, err := s.Get(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkConsistent(t, s, stored)
	// Two answered rotations before the stream, plus the stream's; one more
	// may have committed without its answer getting out.
	rotations := countRotations(t, s, c.ID)
	ackedHash := keystore.HashKey(ackedKey)
	switch rotations {
	case 2 + acked:
		if stored.Key.Hash != ackedHash {
			t.Errorf("%d rotations recorded, as answered, but the current key is not the last one answered", rotations)
		}
	case 3 + acked:
		if stored.Retiring == nil || stored.Retiring.Hash != ackedHash {
			t.Errorf("an unanswered rotation committed, but the last answered key is not the retiring one")
		}
	default:
		t.Errorf("%d rotations recorded; %d were answered", rotations, 2+acked)
	}
	s.Close()

	// The restarted gateway accepts the current key.
	g.start()
	req, _ := http.NewRequest("GET", g.posURL+"/pos/api/v1/members/lookup", nil)
	req.Header.Set("X-Api-Key", ackedKey)
	resp, err := g.httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after restart, the last answered key: %d", resp.StatusCode)
	}
	t.Logf("%d rotations answered before the kill, %d committed", acked, rotations-2)
}

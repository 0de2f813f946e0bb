package apikey_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"

	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
	_ "github.com/gatehouse-gw/gatehouse/plugins"
)

const (
	adminPort = 3121
	httpPort  = 9121
)

var base = fmt.Sprintf("http://localhost:%d", httpPort)

func config(storePath, answer string) string {
	return fmt.Sprintf(`{
	admin localhost:%d
	http_port %d
}
http://localhost:%d {
	route /pos/* {
		gatehouse {
			api_key {
				store %s
			}
		}
		respond "%s {http.auth.user.client_id}"
	}
}
`, adminPort, httpPort, httpPort, storePath, answer)
}

// startGateway runs Caddy in this process with the API-key track on a real
// key store file, which the test shares through the same pool.
func startGateway(t *testing.T) (*caddytest.Tester, *keystore.CachedStore, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.db")
	store, err := keystore.Acquire(path, keystore.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := keystore.Release(path); err != nil {
			t.Error(err)
		}
	})
	tester := caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: adminPort})
	tester.InitServer(config(path, "v1"), "caddyfile")
	return tester, store, path
}

func get(key string) (int, string, error) {
	req, _ := http.NewRequest("GET", base+"/pos/members", nil)
	req.Header.Set("X-Api-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// TestRotationUnderTraffic rotates and disables a key while many clients
// use it. The property a POS operator relies on: once Rotate (without
// grace) or a disable has returned, no request that starts afterwards is
// let through with the old key; and the new key works at once.
func TestRotationUnderTraffic(t *testing.T) {
	_, store, _ := startGateway(t)
	ctx := context.Background()
	client, key, _, err := store.Create(ctx, keystore.NewClient{Name: "till 1", Scopes: []string{"pos"}})
	if err != nil {
		t.Fatal(err)
	}

	var current atomic.Value // the key the clients should be using
	current.Store(key)
	var revokedAt sync.Map // key -> time its revocation returned
	var violations, accepted atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := current.Load().(string)
				started := time.Now()
				status, _, err := get(k)
				if err != nil {
					t.Error(err)
					return
				}
				if status == 200 {
					accepted.Add(1)
					if at, ok := revokedAt.Load(k); ok && started.After(at.(time.Time)) {
						violations.Add(1)
					}
				}
			}
		}()
	}

	for round := 0; round < 20; round++ {
		time.Sleep(10 * time.Millisecond)
		old := current.Load().(string)
		_, newKey, err := store.Rotate(ctx, client.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		revokedAt.Store(old, time.Now())
		if status, _, _ := get(old); status != 401 {
			t.Fatalf("round %d: the rotated-out key got %d right after Rotate returned", round, status)
		}
		if status, _, _ := get(newKey); status != 200 {
			t.Fatalf("round %d: the new key got %d right after Rotate returned", round, status)
		}
		current.Store(newKey)
	}
	if _, err := store.SetStatus(ctx, client.ID, keystore.StatusDisabled); err != nil {
		t.Fatal(err)
	}
	revokedAt.Store(current.Load().(string), time.Now())
	time.Sleep(20 * time.Millisecond)
	close(stop)
	wg.Wait()

	if n := violations.Load(); n > 0 {
		t.Fatalf("%d requests that started after a revocation returned were let through", n)
	}
	if accepted.Load() == 0 {
		t.Fatal("no request was accepted: the test proved nothing")
	}
	t.Logf("%d requests accepted across 20 rotations and a disable", accepted.Load())
}

// TestReloadKeepsStoreOpen reloads the config while the key store is open
// and in use: the new config shares the open file (a second bbolt open in
// the same process would block), keys keep working, and changes made
// before the reload are still seen.
func TestReloadKeepsStoreOpen(t *testing.T) {
	tester, store, path := startGateway(t)
	ctx := context.Background()
	c, key, _, err := store.Create(ctx, keystore.NewClient{Name: "till 2", Scopes: []string{"pos"}})
	if err != nil {
		t.Fatal(err)
	}
	if status, body, _ := get(key); status != 200 || body != "v1 "+c.ID {
		t.Fatalf("before reload: %d %q", status, body)
	}

	tester.InitServer(config(path, "v2"), "caddyfile")

	if status, body, _ := get(key); status != 200 || body != "v2 "+c.ID {
		t.Fatalf("after reload: %d %q", status, body)
	}
	// The file is still held by this process: another open must time out.
	if _, err := keystore.Open(path, keystore.Options{LockTimeout: 100 * time.Millisecond}); !errors.Is(err, keystore.ErrLocked) {
		t.Fatalf("a second open of the store file should find it locked, got %v", err)
	}
	if _, err := store.SetStatus(ctx, c.ID, keystore.StatusDisabled); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := get(key); status != 401 {
		t.Fatalf("a key disabled after the reload still works: %d", status)
	}

	// Decisions and cache lookups are counted in Caddy's metrics.
	resp, err := http.Get(fmt.Sprintf("http://localhost:%d/metrics", adminPort))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	metrics, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`gatehouse_auth_decisions_total{outcome="accepted",reason="",track="api_key"}`,
		`gatehouse_auth_decisions_total{outcome="refused",reason="disabled_key",track="api_key"}`,
		`gatehouse_api_key_cache_lookups_total{result="hit",store="` + path + `"}`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

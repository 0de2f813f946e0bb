package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-gw/gatehouse/test/harness"
)

// Bounds of the load that runs across the reload.
const (
	loadWorkers       = 4
	loadMaxPerWorker  = 1000
	loadMaxDuration   = 20 * time.Second
	loadBeforeReload  = 200 // requests answered before the reload starts
	loadAfterDuration = time.Second
)

// reloadedHeader is the response header the edited Caddyfile adds.
const reloadedHeader = "X-Gatehouse-Config"

// TestReloadUnderLoad applies an edited Caddyfile with `caddy reload`
// while API-key and bearer requests run: every request gets its 200, the
// edit shows, and the key store and the authserver carry on unchanged.
func TestReloadUnderLoad(t *testing.T) {
	s := startSystem(t, t.TempDir())
	write := adminToken(t, s.creds, "admin.read admin.write")
	before := createClient(t, write.AccessToken, "created before the reload")
	clientsBefore := listClients(t, write.AccessToken)
	edited := editedCaddyfile(t)

	load := startLoad(s.creds, before, write.AccessToken)
	if err := load.waitAnswered(loadBeforeReload, 10*time.Second); err != nil {
		load.stop()
		t.Fatal(err)
	}
	reloadStart := time.Now()
	err := s.proc.Reload(edited)
	reloadEnd := time.Now()
	if err != nil {
		load.stop()
		t.Fatalf("%v\nlogs:\n%s", err, s.proc.Logs())
	}
	time.Sleep(loadAfterDuration)
	results := load.stop()

	var failed, during, after, afterWithoutEdit int
	for _, r := range results {
		if r.err != nil {
			failed++
			if failed <= 5 {
				t.Errorf("request failed: %v", r.err)
			}
			continue
		}
		if r.start.Before(reloadEnd) && r.end.After(reloadStart) {
			during++
		}
		if r.start.After(reloadEnd) {
			after++
			if !r.edited {
				afterWithoutEdit++
			}
		}
	}
	t.Logf("%d requests, %d during the reload (%s), %d after it", len(results), during, reloadEnd.Sub(reloadStart).Round(time.Millisecond), after)
	if failed > 0 {
		t.Errorf("%d of %d requests failed across the reload", failed, len(results))
	}
	if during == 0 || after == 0 {
		t.Errorf("%d requests overlapped the reload and %d came after it; the load did not span it", during, after)
	}
	if afterWithoutEdit > 0 {
		t.Errorf("%d of %d requests made after the reload answered without the edited config's %s header", afterWithoutEdit, after, reloadedHeader)
	}

	// The edited gatehouse handler is in place: its realm shows.
	r := call(t, newGet(posLookupURL))
	if ch := r.header.Get("WWW-Authenticate"); r.status != http.StatusUnauthorized || !strings.Contains(ch, `realm="pos-reloaded"`) {
		t.Errorf("after the reload, a lookup without key got %d with challenge %q, want realm pos-reloaded", r.status, ch)
	}

	// The stores are as they were, and take changes at once.
	if got := clientSummary(listClients(t, write.AccessToken)); got != clientSummary(clientsBefore) {
		t.Errorf("clients after the reload:\n%s\nbefore:\n%s", got, clientSummary(clientsBefore))
	}
	expectMember(t, "key created before the reload", call(t, posLookup(before.APIKey)), before.ID)
	fresh := createClient(t, write.AccessToken, "created after the reload")
	expectMember(t, "key created after the reload", call(t, posLookup(fresh.APIKey)), fresh.ID)
	adminToken(t, s.creds, "admin.read")
	if now := readFile(t, filepath.Join(s.dataDir, "demo-credentials.json")); !bytes.Equal(now, s.credsFile) {
		t.Errorf("the reload rewrote demo-credentials.json")
	}
	s.stop(t)
}

// editedCaddyfile writes a copy of the root Caddyfile with a visible
// change: a response header on the gateway's routes and another realm
// on the POS route. The copy lives in a temporary directory, so its
// import of the stand-ins names them by absolute path (Caddy resolves a
// relative import from the importing file's directory).
func editedCaddyfile(t *testing.T) string {
	t.Helper()
	root := harness.RepoRoot()
	config := string(readFile(t, filepath.Join(root, "Caddyfile")))
	for _, edit := range []struct{ old, new string }{
		{"import {$GATEHOUSE_STANDINS:test/standins/Caddyfile}", "import {$GATEHOUSE_STANDINS:" + filepath.Join(root, "test/standins/Caddyfile") + "}"},
		{"\troute /admin/api/* {", "\theader " + reloadedHeader + " reloaded\n\troute /admin/api/* {"},
		{"\troute /pos/api/* {", "\theader " + reloadedHeader + " reloaded\n\troute /pos/api/* {"},
		{"\t\t\trealm pos\n", "\t\t\trealm pos-reloaded\n"},
	} {
		if strings.Count(config, edit.old) != 1 {
			t.Fatalf("the root Caddyfile no longer has exactly one %q; update this test's edit", edit.old)
		}
		config = strings.Replace(config, edit.old, edit.new, 1)
	}
	path := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// clientSummary is what must not change across a reload: each client's
// id, status and current key.
func clientSummary(p clientPage) string {
	var b strings.Builder
	for _, c := range p.Clients {
		fmt.Fprintf(&b, "%s %s %s %v\n", c.ID, c.Status, c.KeyPrefix, c.Scopes)
	}
	return b.String()
}

// loadResult is one request of the load.
type loadResult struct {
	start, end time.Time
	// edited: the answer carries the edited config's header.
	edited bool
	err    error
}

// load is a bounded mix of POS API-key lookups (the demo key and a
// created one) and bearer admin calls (the clients API and the admin
// upstream), run by a few workers.
type load struct {
	quit     chan struct{}
	wg       sync.WaitGroup
	answered atomic.Int64
	mu       sync.Mutex
	results  []loadResult
}

func startLoad(creds demoCredentials, created issuedClient, token string) *load {
	l := &load{quit: make(chan struct{})}
	type target struct {
		url, header, value string
		check              func(response) error
	}
	member := func(clientID string) func(response) error {
		return func(r response) error {
			var e echo
			if err := json.Unmarshal(r.body, &e); err != nil || e.Member == nil || e.Identity.ClientID != clientID {
				return fmt.Errorf("not the member lookup of client %s: %s", clientID, r.body)
			}
			return nil
		}
	}
	contains := func(want string) func(response) error {
		return func(r response) error {
			if !bytes.Contains(r.body, []byte(want)) {
				return fmt.Errorf("answer without %s: %s", want, r.body)
			}
			return nil
		}
	}
	targets := [loadWorkers][]target{
		{{posLookupURL, "X-Api-Key", creds.POSKey.APIKey, member(creds.POSKey.ID)}},
		{{posLookupURL, "X-Api-Key", created.APIKey, member(created.ID)}},
		{{clientsURL, "Authorization", "Bearer " + token, contains(`"id":"` + created.ID + `"`)}},
		{{adminEchoURL, "Authorization", "Bearer " + token, contains(`"track": "bearer"`)}},
	}
	deadline := time.Now().Add(loadMaxDuration)
	for _, worker := range targets {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; i < loadMaxPerWorker && time.Now().Before(deadline); i++ {
				select {
				case <-l.quit:
					return
				default:
				}
				tg := worker[i%len(worker)]
				res := loadResult{start: time.Now()}
				r, err := send(newGet(tg.url, tg.header, tg.value))
				res.end = time.Now()
				switch {
				case err != nil:
					res.err = err
				case r.status != http.StatusOK:
					res.err = fmt.Errorf("GET %s: got %s, want 200", tg.url, r)
				default:
					res.err = tg.check(r)
					res.edited = r.header.Get(reloadedHeader) == "reloaded"
				}
				l.answered.Add(1)
				l.mu.Lock()
				l.results = append(l.results, res)
				l.mu.Unlock()
			}
		}()
	}
	return l
}

// waitAnswered waits until n requests were answered.
func (l *load) waitAnswered(n int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for l.answered.Load() < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d requests answered in %s", l.answered.Load(), timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// stop ends the load and returns every request's result.
func (l *load) stop() []loadResult {
	close(l.quit)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.results
}

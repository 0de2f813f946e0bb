package backup_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gatehouse-gw/gatehouse/authserver/store"
	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
	"github.com/gatehouse-gw/gatehouse/test/harness"
)

// Bounds of the write load that runs during the backups.
const (
	maxWrites   = 500
	maxWriteFor = 3 * time.Second
)

// committed is what the writers know was committed: API-key clients
// created (key store) and access tokens revoked (authserver store).
type committed struct {
	mu   sync.Mutex
	keys []apiKey
	jtis []string
}

func (c *committed) addKey(k apiKey) { c.mu.Lock(); c.keys = append(c.keys, k); c.mu.Unlock() }
func (c *committed) addJTI(j string) { c.mu.Lock(); c.jtis = append(c.jtis, j); c.mu.Unlock() }

func (c *committed) snapshot() ([]apiKey, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.keys), slices.Clone(c.jtis)
}

// backupRun is one `caddy gatehouse backup` and what had been committed
// when it started.
type backupRun struct {
	dir  string
	keys []apiKey
	jtis []string
}

// TestHotBackupWhileWritingThenRestore backs up a running Gatehouse with
// the CLI while API keys are created and tokens revoked, checks that
// every backup is a sound bbolt file holding everything committed before
// it started, restores one into a new data directory, and starts
// Gatehouse there: a key created before the backup works through the
// gateway, one created after it does not.
func TestHotBackupWhileWritingThenRestore(t *testing.T) {
	root := t.TempDir()
	dataDir := filepath.Join(root, "data")
	g := startGatehouse(t, dataDir, credentials{})
	creds := g.demoCredentials(t)
	adminToken, err := token(creds)
	if err != nil {
		t.Fatal(err)
	}
	var done committed
	g.poll(t, "the admin API", func() error { // the bearer track answers 503 until it has the issuer's keys
		k, err := createKey(adminToken, "before any backup")
		if err == nil {
			done.addKey(k)
		}
		return err
	})

	// Two writers, one per store, each write committed before its answer.
	stop := make(chan struct{})
	var writes atomic.Int64
	deadline := time.Now().Add(maxWriteFor)
	writing := func() bool {
		select {
		case <-stop:
			return false
		default:
			return time.Now().Before(deadline) && writes.Add(1) <= maxWrites
		}
	}
	var wg sync.WaitGroup
	var writeErrs atomic.Value
	fail := func(err error) { writeErrs.CompareAndSwap(nil, err) }
	wg.Go(func() {
		for i := 0; writing(); i++ {
			k, err := createKey(adminToken, "written during backups "+strconv.Itoa(i))
			if err != nil {
				fail(err)
				return
			}
			done.addKey(k)
		}
	})
	wg.Go(func() {
		for writing() {
			tok, err := token(creds)
			if err == nil {
				var jti string
				if jti, err = revoke(creds, tok); err == nil {
					done.addJTI(jti)
				}
			}
			if err != nil {
				fail(err)
				return
			}
		}
	})
	waitFor(t, func() bool { k, j := done.snapshot(); return len(k) > 3 && len(j) > 3 })

	var runs []backupRun
	for i := range 2 {
		keys, jtis := done.snapshot()
		run := backupRun{dir: filepath.Join(root, fmt.Sprintf("backup-%d", i)), keys: keys, jtis: jtis}
		out, err := runCLI(t, "gatehouse", "backup", "--address", adminAddr, "--output", run.dir)
		if err != nil {
			t.Fatalf("caddy gatehouse backup: %v\n%s\nlogs:\n%s", err, out, g.proc.Logs())
		}
		for _, name := range []string{"keys-keys.db", "authserver-authserver.db"} {
			if !strings.Contains(out, filepath.Join(run.dir, name)) {
				t.Errorf("backup output does not report %s:\n%s", name, out)
			}
		}
		runs = append(runs, run)
	}
	afterBackups, _ := done.snapshot()
	close(stop)
	wg.Wait()
	if err, _ := writeErrs.Load().(error); err != nil {
		t.Fatalf("a write failed while backups ran: %v", err)
	}
	keys, jtis := done.snapshot()
	t.Logf("%d keys created and %d tokens revoked; backups taken after %d/%d and %d/%d of them",
		len(keys), len(jtis), len(runs[0].keys), len(runs[0].jtis), len(runs[1].keys), len(runs[1].jtis))

	for _, run := range runs {
		checkBackup(t, run)
	}

	// Restoring into the live data directory is refused, and changes nothing.
	if out, err := runCLI(t, "gatehouse", "restore", "--from", runs[0].dir, "--data-dir", dataDir); err == nil ||
		!strings.Contains(out, "in use by another process") {
		t.Fatalf("restore into the running Gatehouse's data directory: %v\n%s", err, out)
	}
	if matches, _ := filepath.Glob(filepath.Join(dataDir, "*.before-restore")); len(matches) > 0 {
		t.Fatalf("a refused restore left %v", matches)
	}

	restoredDir := filepath.Join(root, "restored")
	if out, err := runCLI(t, "gatehouse", "restore", "--from", runs[0].dir, "--data-dir", restoredDir); err != nil {
		t.Fatalf("caddy gatehouse restore: %v\n%s", err, out)
	}
	g.proc.Stop()

	// Gatehouse on the restored data: the demo admin client and the keys
	// created before the first backup are there; a key created after the
	// first backup had finished is not.
	restored := startGatehouse(t, restoredDir, creds)
	restored.poll(t, "the API-key track", func() error {
		status, err := posLookup(creds.POSKey.APIKey)
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("demo POS key answered %d", status)
		}
		return err
	})
	for _, k := range []apiKey{runs[0].keys[0], runs[0].keys[len(runs[0].keys)-1]} {
		if status, err := posLookup(k.APIKey); err != nil || status != http.StatusOK {
			t.Errorf("key %s, created before the backup, on the restored Gatehouse: %d, %v", k.ID, status, err)
		}
	}
	if len(keys) > len(afterBackups) {
		later := keys[len(keys)-1]
		if status, err := posLookup(later.APIKey); err != nil || status != http.StatusUnauthorized {
			t.Errorf("key %s, created after both backups, on the restored Gatehouse: %d, %v (want 401)", later.ID, status, err)
		}
	}
	if _, err := os.Stat(filepath.Join(restoredDir, "demo-credentials.json")); err == nil {
		t.Error("the restored Gatehouse took its data for a first start and wrote new demo credentials")
	}
	restored.proc.Stop()

	// Restoring over stopped files keeps them as *.before-restore, once.
	old, err := os.ReadFile(filepath.Join(dataDir, "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "gatehouse", "restore", "--from", runs[1].dir, "--data-dir", dataDir); err != nil {
		t.Fatalf("restore over a stopped Gatehouse's files: %v\n%s", err, out)
	}
	if kept, err := os.ReadFile(filepath.Join(dataDir, "keys.db.before-restore")); err != nil || !bytes.Equal(kept, old) {
		t.Fatalf("keys.db.before-restore does not hold the replaced file: %v", err)
	}
	assertSameFile(t, filepath.Join(runs[1].dir, "keys-keys.db"), filepath.Join(dataDir, "keys.db"))
	assertSameFile(t, filepath.Join(runs[1].dir, "authserver-authserver.db"), filepath.Join(dataDir, "authserver.db"))
	if out, err := runCLI(t, "gatehouse", "restore", "--from", runs[0].dir, "--data-dir", dataDir); err == nil ||
		!strings.Contains(out, "before-restore exists") {
		t.Fatalf("a second restore over an earlier one's *.before-restore: %v\n%s", err, out)
	}
	assertSameFile(t, filepath.Join(runs[1].dir, "keys-keys.db"), filepath.Join(dataDir, "keys.db"))
}

// checkBackup checks one backup directory: exactly the two files, each
// passing bbolt's own check, each holding what was committed before the
// backup started.
func checkBackup(t *testing.T, run backupRun) {
	t.Helper()
	entries, err := os.ReadDir(run.dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"authserver-authserver.db", "keys-keys.db"}; !slices.Equal(names, want) {
		t.Fatalf("%s holds %v, want %v", run.dir, names, want)
	}
	for _, name := range names {
		boltCheck(t, filepath.Join(run.dir, name))
	}

	// Open copies: opening a store writes to it, and the backup stays as taken.
	ks, err := keystore.Open(copyFile(t, filepath.Join(run.dir, "keys-keys.db")), keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	for _, k := range run.keys {
		if _, err := ks.Get(t.Context(), k.ID); err != nil {
			t.Errorf("%s: client %s, created before the backup: %v", run.dir, k.ID, err)
		}
	}
	st, err := store.OpenBolt(copyFile(t, filepath.Join(run.dir, "authserver-authserver.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, jti := range run.jtis {
		if revoked, err := st.IsTokenRevoked(t.Context(), jti); err != nil || !revoked {
			t.Errorf("%s: token %s, revoked before the backup: %v, %v", run.dir, jti, revoked, err)
		}
	}
}

// boltCheck runs bbolt's consistency check on path, read-only.
func boltCheck(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
	if err != nil {
		t.Fatalf("%s fails bbolt check: %v", path, err)
	}
}

// TestAdminEndpointServesOnlyOpenStores asks the admin endpoint for
// paths that are not an open store, spelled every way that could reach
// a file, and for a store by a method other than GET.
func TestAdminEndpointServesOnlyOpenStores(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	g := startGatehouse(t, dataDir, credentials{})
	g.demoCredentials(t)
	keysPath := filepath.Join(dataDir, "keys.db")

	status, body, err := do(adminRequest(http.MethodGet, "/gatehouse/stores"))
	if err != nil || status != http.StatusOK {
		t.Fatalf("listing: %d %s, %v", status, body, err)
	}
	for _, want := range []string{`"kind":"keys","path":` + strconv.Quote(keysPath), `"kind":"authserver","path":` + strconv.Quote(filepath.Join(dataDir, "authserver.db"))} {
		if !strings.Contains(string(body), want) {
			t.Errorf("listing %s lacks %s", body, want)
		}
	}

	resp, err := client.Do(adminRequest(http.MethodGet, "/gatehouse/backup?path="+url.QueryEscape(keysPath)))
	if err != nil {
		t.Fatal(err)
	}
	snapshot := new(bytes.Buffer)
	_, err = snapshot.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || resp.ContentLength != int64(snapshot.Len()) ||
		resp.Header.Get("Content-Type") != "application/octet-stream" ||
		resp.Header.Get("Content-Disposition") != "attachment; filename=keys-keys.db" {
		t.Fatalf("backup of %s: %d, %v, Content-Length %d for %d bytes, headers %v", keysPath, resp.StatusCode, err, resp.ContentLength, snapshot.Len(), resp.Header)
	}

	notStores := []string{
		filepath.Join(dataDir, "nothing.db"),
		filepath.Join(dataDir, "demo-credentials.json"),
		dataDir + "/../data/keys.db",
		dataDir + "/./keys.db",
		dataDir + "//keys.db",
		keysPath + "/",
		"keys.db",
		"data/keys.db",
		"../../../../etc/passwd",
		"/etc/passwd",
		dataDir,
		"",
	}
	for _, p := range notStores {
		status, body, err := do(adminRequest(http.MethodGet, "/gatehouse/backup?path="+url.QueryEscape(p)))
		if err != nil || status != http.StatusNotFound {
			t.Errorf("backup of %q: %d, %v (want 404)", p, status, err)
		}
		if bytes.Contains(body, []byte("client_secret")) || len(body) > 1024 {
			t.Errorf("backup of %q answered with file content: %.100q", p, body)
		}
	}
	for _, target := range []string{"/gatehouse/backup?path=%2e%2e%2fetc%2fpasswd", "/gatehouse/backup/../../etc/passwd", "/gatehouse/backup?path"} {
		if status, _, err := do(adminRequest(http.MethodGet, target)); err != nil || status == http.StatusOK {
			t.Errorf("GET %s: %d, %v", target, status, err)
		}
	}
	if status, _, err := do(adminRequest(http.MethodPost, "/gatehouse/backup?path="+url.QueryEscape(keysPath))); err != nil || status != http.StatusMethodNotAllowed {
		t.Errorf("POST of a backup: %d, %v (want 405)", status, err)
	}

	// The CLI finds the admin endpoint in the Caddyfile, adapted with the
	// same environment as the running process, as `caddy reload` does.
	out := filepath.Join(t.TempDir(), "backup")
	if msg, err := runCLIWithEnv(t, environment(dataDir), "gatehouse", "backup",
		"--config", filepath.Join(harness.RepoRoot(), "Caddyfile"), "--adapter", "caddyfile", "--output", out); err != nil {
		t.Fatalf("backup with --config: %v\n%s", err, msg)
	}
	boltCheck(t, filepath.Join(out, "keys-keys.db"))
	boltCheck(t, filepath.Join(out, "authserver-authserver.db"))
}

// TestBackupFailsWithoutGatehouse: nothing listening is a failure, with
// a non-zero exit status and no file written.
func TestBackupFailsWithoutGatehouse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "backup")
	out, err := runCLI(t, "gatehouse", "backup", "--address", "127.0.0.1:1", "--output", dir)
	if err == nil {
		t.Fatalf("backup with no Gatehouse succeeded:\n%s", out)
	}
	if !strings.Contains(out, "is Gatehouse running there?") {
		t.Errorf("the error does not say what is wrong:\n%s", out)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed backup created %s", dir)
	}
}

// adminRequest is a request to the admin endpoint, as curl would send it.
func adminRequest(method, target string) *http.Request {
	req, err := http.NewRequestWithContext(context.Background(), method, "http://"+adminAddr+target, nil)
	if err != nil {
		panic(err)
	}
	return req
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the writers did not get going")
		}
	}
}

// copyFile copies path into the test's temporary directory.
func copyFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(dst, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return dst
}

func assertSameFile(t *testing.T, want, got string) {
	t.Helper()
	a, errA := os.ReadFile(want)
	b, errB := os.ReadFile(got)
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Fatalf("%s differs from %s (%v, %v)", got, want, errA, errB)
	}
}

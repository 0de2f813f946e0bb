package command_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-gw/gatehouse/authserver"
	"github.com/gatehouse-gw/gatehouse/authserver/command"
	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// run executes the command line with args against storePath.
func run(t *testing.T, storePath, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := command.New(command.Options{Serve: true})
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(append(args, "--store", storePath))
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func mustRun(t *testing.T, storePath, stdin string, args ...string) string {
	t.Helper()
	out, err := run(t, storePath, stdin, args...)
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
	return out
}

var secretLine = regexp.MustCompile(`client_secret: (\S+)`)

func TestManagementCommands(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authserver.db")
	out := mustRun(t, path, "", "clients", "add", "billing", "--grant", "client_credentials", "--scope", "admin.read", "--scope", "admin.write")
	m := secretLine.FindStringSubmatch(out)
	if m == nil || len(m[1]) < 43 {
		t.Fatalf("no 256-bit secret printed: %s", out)
	}
	secret := m[1]
	mustRun(t, path, "", "clients", "add", "portal", "--public", "--grant", "authorization_code", "--scope", "openid",
		"--redirect-uri", "http://localhost:3001/api/auth/callback/rsa")
	if _, err := run(t, path, "", "clients", "add", "bad", "--public", "--grant", "client_credentials"); err == nil {
		t.Fatal("a public client-credentials client was accepted")
	}
	list := mustRun(t, path, "", "clients", "list")
	if !strings.Contains(list, "billing") || !strings.Contains(list, "portal") || strings.Contains(list, secret) {
		t.Fatalf("clients list:\n%s", list)
	}
	rotated := secretLine.FindStringSubmatch(mustRun(t, path, "", "clients", "rotate-secret", "billing"))
	if rotated == nil || rotated[1] == secret {
		t.Fatal("rotate-secret printed no new secret")
	}
	mustRun(t, path, "a long enough password\n", "users", "add", "alice", "--password-stdin", "--name", "Alice")
	if out := mustRun(t, path, "", "users", "passwd", "alice"); !strings.Contains(out, "password: ") {
		t.Fatalf("passwd without stdin printed no password: %s", out)
	}
	if !strings.Contains(mustRun(t, path, "", "users", "list"), "alice") {
		t.Fatal("users list lacks alice")
	}
	if _, err := run(t, path, "short\n", "users", "add", "bob", "--password-stdin"); err == nil {
		t.Fatal("a short password was accepted")
	}

	// Keys: the first start of a server creates one; rotate publishes the next.
	st, err := store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := authserver.New(authserver.Config{Issuer: "http://localhost:5000"}, st, authserver.WithoutBackground())
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	// While a process holds the store, commands say so and what to do.
	if _, err := run(t, path, "", "clients", "list"); !errors.Is(err, store.ErrLocked) ||
		!strings.Contains(err.Error(), "stop the Gatehouse process") || strings.Contains(err.Error(), "admin API") {
		t.Fatalf("command on a held store: %v", err)
	}
	st.Close()
	if out := mustRun(t, path, "", "keys", "rotate"); !strings.Contains(out, "next key") {
		t.Fatalf("keys rotate: %s", out)
	}
	if out := mustRun(t, path, "", "keys", "list"); strings.Count(out, "current") != 1 || strings.Count(out, "next") != 1 {
		t.Fatalf("keys list:\n%s", out)
	}

	mustRun(t, path, "", "clients", "remove", "portal")
	mustRun(t, path, "", "users", "remove", "alice")
	if out := mustRun(t, path, "", "clients", "list"); strings.Contains(out, "portal") {
		t.Fatal("removed client still listed")
	}

	seed := filepath.Join(t.TempDir(), "seed.json")
	os.WriteFile(seed, []byte(`{"clients":[{"client_id":"seeded","client_secret":"0123456789abcdef0123456789abcdef","grant_types":["client_credentials"],"scopes":["admin.read"]}],
		"users":[{"username":"carol","password":"carols password"}]}`), 0o600)
	if out := mustRun(t, path, "", "seed", seed); !strings.Contains(out, "created: client seeded, user carol") {
		t.Fatalf("seed: %s", out)
	}
	if out := mustRun(t, path, "", "seed", seed); strings.Contains(out, "created") || !strings.Contains(out, "skipped: client seeded, user carol") {
		t.Fatalf("second seed: %s", out)
	}
	// Each entry is applied once: what a command removed stays removed.
	mustRun(t, path, "", "clients", "remove", "seeded")
	mustRun(t, path, "", "users", "remove", "carol")
	if out := mustRun(t, path, "", "seed", seed); strings.Contains(out, "created") {
		t.Fatalf("seed after removals: %s", out)
	}
	if out := mustRun(t, path, "", "clients", "list"); strings.Contains(out, "seeded") {
		t.Fatalf("a removed seeded client came back:\n%s", out)
	}
	// A changed entry is a new one; an entry whose client exists already
	// is recorded and left alone.
	os.WriteFile(seed, []byte(`{"clients":[{"client_id":"seeded","client_secret":"0123456789abcdef0123456789abcdef","grant_types":["client_credentials"],"scopes":["admin.read","admin.write"]},
		{"client_id":"billing","client_secret":"fedcba9876543210fedcba9876543210","grant_types":["client_credentials"],"scopes":["admin.read"]}]}`), 0o600)
	if out := mustRun(t, path, "", "seed", seed); !strings.Contains(out, "created: client seeded") || !strings.Contains(out, "existed, left unchanged: client billing") {
		t.Fatalf("seed with a changed entry: %s", out)
	}

	// A confidential client without its secret is refused, and nothing
	// of the file is applied.
	os.WriteFile(seed, []byte(`{"clients":[{"client_id":"fresh","public":true,"grant_types":["authorization_code"],"scopes":["openid"],"redirect_uris":["https://app.example/cb"]},
		{"client_id":"nosecret","grant_types":["client_credentials"],"scopes":["admin.read"]}]}`), 0o600)
	if _, err := run(t, path, "", "seed", seed); err == nil || !strings.Contains(err.Error(), "nosecret") || !strings.Contains(err.Error(), "client_secret") {
		t.Fatalf("seed with a secretless confidential client: %v", err)
	}
	if out := mustRun(t, path, "", "clients", "list"); strings.Contains(out, "fresh") {
		t.Fatalf("a refused seed file applied an entry:\n%s", out)
	}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestServeDemoCredentials starts the standalone server as README's
// first start would, reads the demo credentials file and sends the seed
// document's client-credentials request.
func TestServeDemoCredentials(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "authserver.db")
	demo := filepath.Join(dir, "demo-credentials.json")
	addr := freeAddr(t)
	issuer := "http://" + addr
	start := func() (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			cmd := command.New(command.Options{Serve: true})
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetArgs([]string{"--store", path, "--listen", addr, "--issuer", issuer, "--demo-credentials", demo})
			done <- cmd.ExecuteContext(ctx)
		}()
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := http.Get(issuer + "/.well-known/openid-configuration")
			if err == nil {
				resp.Body.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("server did not start: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		}
	}
	stop := start()
	raw, err := os.ReadFile(demo)
	if err != nil {
		t.Fatal(err)
	}
	var creds map[string]map[string]any
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		t.Fatal(err)
	}
	if string(top["issuer"]) != `"`+issuer+`"` {
		t.Fatalf("issuer %s", top["issuer"])
	}
	delete(top, "issuer")
	b, _ := json.Marshal(top)
	if err := json.Unmarshal(b, &creds); err != nil {
		t.Fatal(err)
	}
	admin, portal, user := creds["admin_client"], creds["portal_client"], creds["user"]
	if admin["client_id"] == "" || admin["client_secret"] == "" || portal["redirect_uri"] != "http://localhost:3001/api/auth/callback/rsa" ||
		user["username"] == "" || user["password"] == "" {
		t.Fatalf("demo credentials %s", raw)
	}
	if info, _ := os.Stat(demo); info.Mode().Perm() != 0o600 {
		t.Fatalf("demo credentials file mode %v", info.Mode())
	}

	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {admin["client_id"].(string)},
		"client_secret": {admin["client_secret"].(string)}, "scope": {"admin.read"}}
	resp, err := http.PostForm(issuer+"/connect/token", form)
	if err != nil {
		t.Fatal(err)
	}
	var tok map[string]any
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != 200 || tok["expires_in"] != float64(3600) || tok["token_type"] != "Bearer" {
		t.Fatalf("seed request with the demo client: %d %v", resp.StatusCode, tok)
	}
	stop()

	st, err := store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := st.GetClient(context.Background(), portal["client_id"].(string))
	st.Close()
	if err != nil || !pc.Public || pc.SecretHash != "" || !slices.Contains(pc.Scopes, "openid") || !slices.Contains(pc.Scopes, "profile") || !slices.Contains(pc.Scopes, "admin.read") {
		t.Fatalf("demo portal client %+v %v", pc, err)
	}

	// A second start reuses everything and writes nothing new.
	before, _ := os.ReadFile(demo)
	stop = start()
	stop()
	after, _ := os.ReadFile(demo)
	if !bytes.Equal(before, after) {
		t.Fatal("second start changed the demo credentials")
	}
}

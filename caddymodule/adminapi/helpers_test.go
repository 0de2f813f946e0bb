package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

// Callers the in-process tests act as; the X-Test-As request header picks
// one, standing in for the gatehouse policy handler that verifies tokens.
var callers = map[string]authn.Identity{
	"admin":  {Track: authn.TrackBearer, Subject: "alice", ClientID: "ops-console", Scopes: []string{"admin.read", "admin.write"}},
	"other":  {Track: authn.TrackBearer, Subject: "bob", ClientID: "ops-console", Scopes: []string{"admin.read", "admin.write"}},
	"reader": {Track: authn.TrackBearer, Subject: "carol", ClientID: "dashboard", Scopes: []string{"admin.read"}},
	"writer": {Track: authn.TrackBearer, Subject: "dave", ClientID: "provisioner", Scopes: []string{"admin.write"}},
}

// testAPI is the handler provisioned on a real bbolt store in a temporary
// directory, served over HTTP on loopback.
type testAPI struct {
	t         *testing.T
	h         *Handler
	srv       *httptest.Server
	storePath string
	logs      *observer.ObservedLogs
	// passed counts requests handed to the next handler.
	passed int
	// spec, when set, checks every exchange against openapi.yaml.
	spec *specChecker
}

// newTestAPI provisions a handler with cfg (store defaults to a new file).
func newTestAPI(t *testing.T, cfg Handler) *testAPI {
	t.Helper()
	if cfg.Store == "" {
		cfg.Store = filepath.Join(t.TempDir(), "keys.db")
	}
	a := &testAPI{t: t, h: &cfg, storePath: cfg.Store}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	if err := a.h.Provision(ctx); err != nil {
		cancel()
		t.Fatalf("provision: %v", err)
	}
	if err := a.h.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	core, logs := observer.New(zap.DebugLevel)
	a.h.logger, a.logs = zap.New(core), logs
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		a.passed++
		w.WriteHeader(http.StatusTeapot)
		return nil
	})
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if as := r.Header.Get("X-Test-As"); as != "anonymous" {
			if as == "" {
				as = "admin"
			}
			r = r.WithContext(authn.WithIdentity(r.Context(), callers[as]))
		}
		if err := a.h.ServeHTTP(w, r, next); err != nil {
			t.Errorf("ServeHTTP returned %v", err)
		}
	}))
	t.Cleanup(func() {
		a.srv.Close()
		if err := a.h.Cleanup(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		cancel()
	})
	return a
}

// response is an answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// call describes one request.
type call struct {
	as          string // caller; default admin
	method      string
	path        string // relative to the server, e.g. /admin/api/v1/clients
	body        string
	contentType string // default application/json when body is set
	header      map[string]string
	// invalid marks a request that breaks the API's contract on purpose;
	// only its answer is checked against the OpenAPI document.
	invalid bool
}

// do sends c and returns the answer.
func (a *testAPI) do(c call) *response {
	a.t.Helper()
	req, err := http.NewRequest(c.method, a.srv.URL+c.path, strings.NewReader(c.body))
	if err != nil {
		a.t.Fatal(err)
	}
	if c.body != "" {
		ct := c.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	} else if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	if c.as != "" {
		req.Header.Set("X-Test-As", c.as)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := a.srv.Client().Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	out := &response{status: resp.StatusCode, header: resp.Header, body: body}
	if a.spec != nil {
		a.spec.check(a.t, c, req, out)
	}
	return out
}

// must sends c and fails the test unless the answer has status.
func (a *testAPI) must(status int, c call) *response {
	a.t.Helper()
	r := a.do(c)
	if r.status != status {
		a.t.Fatalf("%s %s: status %d, want %d; body %s", c.method, c.path, r.status, status, r.body)
	}
	return r
}

// decode unmarshals the answer's body into v.
func (r *response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// apiError is the error body every refusal carries.
type apiError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// issued is the answer to a create or a rotation.
type issued struct {
	clientView
	APIKey string `json:"api_key"`
}

// createClient creates a client named name with scopes through the API.
func (a *testAPI) createClient(name string, scopes ...string) issued {
	a.t.Helper()
	body, _ := json.Marshal(map[string]any{"name": name, "scopes": append([]string{}, scopes...)})
	var out issued
	a.must(http.StatusCreated, call{method: "POST", path: "/admin/api/v1/clients", body: string(body)}).decode(a.t, &out)
	return out
}

// snapshot is everything the store holds, as the store's own API shows it.
type snapshot struct {
	clients []keystore.Client
	audit   []keystore.AuditEntry
}

// snapshot reads every client and audit entry straight from the store.
func (a *testAPI) snapshot() snapshot {
	a.t.Helper()
	var s snapshot
	ctx := context.Background()
	for cursor := ""; ; {
		page, err := a.h.store.List(ctx, keystore.ListOptions{After: cursor, Limit: keystore.MaxPageSize})
		if err != nil {
			a.t.Fatal(err)
		}
		s.clients = append(s.clients, page.Clients...)
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	for cursor := ""; ; {
		page, err := a.h.store.Audit(ctx, keystore.AuditQuery{After: cursor, Limit: keystore.MaxPageSize})
		if err != nil {
			a.t.Fatal(err)
		}
		s.audit = append(s.audit, page.Entries...)
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	return s
}

// jsonBody encodes v for a request.
func jsonBody(v any) string {
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(v)
	return b.String()
}

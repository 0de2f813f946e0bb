package adminapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

// benchHandler provisions the handler on the store file at path.
func benchHandler(b *testing.B, path string) *Handler {
	b.Helper()
	h := &Handler{Store: path}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	b.Cleanup(cancel)
	if err := h.Provision(ctx); err != nil {
		b.Fatal(err)
	}
	h.logger = zap.NewNop()
	b.Cleanup(func() { _ = h.Cleanup() })
	return h
}

// serve runs one request through the handler as the admin.
func serve(b *testing.B, h *Handler, method, target, body string, want int) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req = req.WithContext(authn.WithIdentity(req.Context(), callers["admin"]))
	w := httptest.NewRecorder()
	if err := h.ServeHTTP(w, req, caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil })); err != nil {
		b.Fatal(err)
	}
	if w.Code != want {
		b.Fatalf("%s %s: %d %s", method, target, w.Code, w.Body)
	}
	return w
}

// BenchmarkCreate measures POST /clients: one fsync'd bbolt transaction
// per client, on the disk that holds the test's temporary directory.
func BenchmarkCreate(b *testing.B) {
	h := benchHandler(b, filepath.Join(b.TempDir(), "keys.db"))
	body := `{"name": "POS terminal", "scopes": ["pos.read", "pos.write"], "metadata": {"store": "0042"}}`
	b.ResetTimer()
	for b.Loop() {
		serve(b, h, "POST", clientsPath, body, http.StatusCreated)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
}

// BenchmarkRotate measures POST /clients/{id}/rotate-secret with a grace
// period, round-robin over 100 clients.
func BenchmarkRotate(b *testing.B) {
	h := benchHandler(b, filepath.Join(b.TempDir(), "keys.db"))
	var ids []string
	for i := 0; i < 100; i++ {
		var c issued
		_ = json.Unmarshal(serve(b, h, "POST", clientsPath, `{"name": "t", "scopes": ["pos.read"]}`, http.StatusCreated).Body.Bytes(), &c)
		ids = append(ids, c.ID)
	}
	i := 0
	b.ResetTimer()
	for b.Loop() {
		serve(b, h, "POST", clientsPath+"/"+ids[i%len(ids)]+"/rotate-secret", `{"grace_period_seconds": 3600}`, http.StatusOK)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rotations/s")
}

// BenchmarkList100k measures GET /clients on a store of 100,000 clients:
// the first page, a page from the middle, a full page of 500, a status
// filter that matches few clients, and a walk through all 200 pages of 500.
func BenchmarkList100k(b *testing.B) {
	const n = 100_000
	path := seed100k(b, n)
	h := benchHandler(b, path)
	// A cursor in the middle, and 100 disabled clients spread out.
	var page clientPage
	target := clientsPath + "?limit=500"
	for i := 0; i < n/2/500; i++ {
		_ = json.Unmarshal(serve(b, h, "GET", target, "", http.StatusOK).Body.Bytes(), &page)
		target = clientsPath + "?limit=500&cursor=" + *page.NextCursor
	}
	middle := *page.NextCursor

	b.Run("first_page_50", func(b *testing.B) {
		for b.Loop() {
			serve(b, h, "GET", clientsPath, "", http.StatusOK)
		}
	})
	b.Run("middle_page_50", func(b *testing.B) {
		for b.Loop() {
			serve(b, h, "GET", clientsPath+"?cursor="+middle, "", http.StatusOK)
		}
	})
	b.Run("page_500", func(b *testing.B) {
		for b.Loop() {
			serve(b, h, "GET", clientsPath+"?limit=500&cursor="+middle, "", http.StatusOK)
		}
	})
	b.Run("status_disabled", func(b *testing.B) {
		for b.Loop() {
			serve(b, h, "GET", clientsPath+"?status=disabled", "", http.StatusOK)
		}
	})
	b.Run("walk_all_100k", func(b *testing.B) {
		for b.Loop() {
			seen := 0
			for target := clientsPath + "?limit=500"; ; {
				var p clientPage
				_ = json.Unmarshal(serve(b, h, "GET", target, "", http.StatusOK).Body.Bytes(), &p)
				seen += len(p.Clients)
				if p.NextCursor == nil {
					break
				}
				target = clientsPath + "?limit=500&cursor=" + *p.NextCursor
			}
			if seen != n {
				b.Fatalf("walked %d clients, want %d", seen, n)
			}
		}
	})
}

// seed100k fills a store with n clients through the store's own Create,
// every 1000th disabled. A Create is an fsync'd transaction (about 1 ms on
// this disk), so the file is made on tmpfs when the machine has one, where
// the fsync is free; the benchmark only reads it.
func seed100k(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "gatehouse-bench-"); err == nil {
			dir = d
			b.Cleanup(func() { os.RemoveAll(d) })
		}
	}
	path := filepath.Join(dir, "keys.db")
	s, err := keystore.Open(path, keystore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		c, _, _, err := s.Create(ctx, keystore.NewClient{Name: fmt.Sprintf("POS terminal %d", i), Scopes: []string{"pos.read", "pos.write"}})
		if err != nil {
			b.Fatal(err)
		}
		if i%1000 == 0 {
			if _, err := s.SetStatus(ctx, c.ID, keystore.StatusDisabled); err != nil {
				b.Fatal(err)
			}
		}
	}
	return path
}

package keystore_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore/conformance"
)

func openBolt(t *testing.T, path string, opts keystore.Options) *keystore.BoltStore {
	t.Helper()
	s, err := keystore.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBoltConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T, now func() time.Time) keystore.Store {
		return openBolt(t, filepath.Join(t.TempDir(), "keys.db"), keystore.Options{Now: now})
	})
}

func TestBoltDataSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "private", "data", "keys.db")
	clock := conformance.NewClock(time.Now())
	s := openBolt(t, path, keystore.Options{Now: clock.Now})
	ctx := keystore.WithActor(t.Context(), keystore.Actor{Subject: "ops"})
	a, oldKey, _, err := s.Create(ctx, keystore.NewClient{Name: "a", Scopes: []string{"pos"}})
	if err != nil {
		t.Fatal(err)
	}
	a, newKey, err := s.Rotate(ctx, a.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b, bKey, _, err := s.Create(ctx, keystore.NewClient{Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if b, err = s.SetStatus(ctx, b.ID, keystore.StatusDisabled); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm()&^want != 0 {
			t.Errorf("%s has mode %v, want at most %v", p, info.Mode().Perm(), want)
		}
	}

	s = openBolt(t, path, keystore.Options{Now: clock.Now})
	defer s.Close()
	for _, tc := range []struct {
		key  string
		id   string
		slot keystore.KeySlot
	}{{oldKey, a.ID, keystore.SlotRetiring}, {newKey, a.ID, keystore.SlotCurrent}, {bKey, b.ID, keystore.SlotCurrent}} {
		c, slot, err := s.Lookup(t.Context(), keystore.HashKey(tc.key))
		if err != nil || c.ID != tc.id || slot != tc.slot {
			t.Fatalf("after reopen: Lookup = %s %v %v, want %s %v", c.ID, slot, err, tc.id, tc.slot)
		}
	}
	if got, err := s.Get(t.Context(), b.ID); err != nil || got.Status != keystore.StatusDisabled {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	page, err := s.Audit(t.Context(), keystore.AuditQuery{})
	if err != nil || len(page.Entries) != 4 {
		t.Fatalf("after reopen: %d audit entries, %v", len(page.Entries), err)
	}
}

func TestBoltSecondOpenIsLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	s := openBolt(t, path, keystore.Options{})
	start := time.Now()
	_, err := keystore.Open(path, keystore.Options{LockTimeout: 200 * time.Millisecond})
	if !errors.Is(err, keystore.ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("second Open gave up after %v", waited)
	}
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("error %q does not name the file", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	openBolt(t, path, keystore.Options{}).Close()
}

func TestBoltKeyPrefixBelongsToTheStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	s := openBolt(t, path, keystore.Options{KeyPrefix: "gh_test_"})
	_, key, _, err := s.Create(t.Context(), keystore.NewClient{Name: "a"})
	if err != nil || !strings.HasPrefix(key, "gh_test_") {
		t.Fatalf("key with prefix %q, %v", key[:8], err)
	}
	s.Close()

	s = openBolt(t, path, keystore.Options{})
	if p := s.KeyFormat().Prefix(); p != "gh_test_" {
		t.Fatalf("reopened without a prefix: %q", p)
	}
	s.Close()
	if _, err := keystore.Open(path, keystore.Options{KeyPrefix: "rsa_live_"}); !errors.Is(err, keystore.ErrInvalid) {
		t.Fatalf("reopen with another prefix: %v, want ErrInvalid", err)
	}
	if _, err := keystore.Open(filepath.Join(t.TempDir(), "k.db"), keystore.Options{KeyPrefix: "Bad-"}); !errors.Is(err, keystore.ErrInvalid) {
		t.Fatalf("invalid prefix: %v, want ErrInvalid", err)
	}
	s = openBolt(t, filepath.Join(t.TempDir(), "default.db"), keystore.Options{})
	defer s.Close()
	if p := s.KeyFormat().Prefix(); p != keystore.DefaultKeyPrefix {
		t.Fatalf("new store without a prefix uses %q", p)
	}
}

// TestBoltFileHoldsNoPlaintext reads the raw file: no key, no random part
// of a key and no idempotency key may be in it, even though a sealed copy
// of the first key is kept for replays.
func TestBoltFileHoldsNoPlaintext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	s := openBolt(t, path, keystore.Options{})
	const idem = "9b2f0d7e-5c4a-4e1b-8f3d-0a6c2b9e7d15"
	c, key1, _, err := s.Create(t.Context(), keystore.NewClient{Name: "a",
		Idempotency: &keystore.Idempotency{Key: idem, Fingerprint: []byte("body")}})
	if err != nil {
		t.Fatal(err)
	}
	_, key2, err := s.Rotate(t.Context(), c.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{key1, key2, key1[len(keystore.DefaultKeyPrefix)+8:], key2[len(keystore.DefaultKeyPrefix)+8:], idem} {
		if strings.Contains(string(raw), secret) {
			t.Fatal("the store file holds a plaintext secret")
		}
	}
}

// TestBoltConcurrentRotationsAndLookups: while readers look keys up, a
// key rotated out without grace is refused as soon as Rotate returns, and
// readers only ever see a client or ErrNotFound.
func TestBoltConcurrentRotationsAndLookups(t *testing.T) {
	s := openBolt(t, filepath.Join(t.TempDir(), "keys.db"), keystore.Options{})
	defer s.Close()
	ctx := t.Context()
	c, key, _, err := s.Create(ctx, keystore.NewClient{Name: "hot"})
	if err != nil {
		t.Fatal(err)
	}
	var current atomic.Pointer[string]
	current.Store(&key)
	stop := make(chan struct{})
	var readers sync.WaitGroup
	var lookups, errs atomic.Int64
	for range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				got, _, err := s.Lookup(ctx, keystore.HashKey(*current.Load()))
				lookups.Add(1)
				switch {
				case errors.Is(err, keystore.ErrNotFound): // rotated meanwhile
				case err != nil || got.ID != c.ID:
					errs.Add(1)
				}
			}
		}()
	}
	var rotators sync.WaitGroup
	for g := range 2 {
		rotators.Add(1)
		go func() {
			defer rotators.Done()
			for i := range 20 {
				grace := time.Duration(0)
				if (g+i)%3 == 0 {
					grace = time.Minute
				}
				_, newKey, err := s.Rotate(ctx, c.ID, grace)
				if err != nil {
					t.Error(err)
					return
				}
				current.Store(&newKey)
			}
		}()
	}
	rotators.Wait()
	close(stop)
	readers.Wait()
	if errs.Load() != 0 {
		t.Fatalf("%d of %d lookups saw something other than the client or ErrNotFound", errs.Load(), lookups.Load())
	}
	// After the last rotation only its key and at most one retiring key work.
	final, err := s.Get(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, slot, err := s.Lookup(ctx, final.Key.Hash); err != nil || slot != keystore.SlotCurrent {
		t.Fatalf("current key: %v %v", slot, err)
	}
	if _, _, err := s.Lookup(ctx, keystore.HashKey(key)); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("first key after 40 rotations: %v", err)
	}
}

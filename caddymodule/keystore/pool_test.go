package keystore_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

// assertLocked checks that the file is held open by this process's pool.
func assertLocked(t *testing.T, path string) {
	t.Helper()
	if _, err := keystore.Open(path, keystore.Options{LockTimeout: 50 * time.Millisecond}); !errors.Is(err, keystore.ErrLocked) {
		t.Fatalf("direct Open while acquired: %v, want ErrLocked", err)
	}
}

func release(t *testing.T, path string) {
	t.Helper()
	if err := keystore.Release(path); err != nil {
		t.Fatal(err)
	}
}

// TestPoolSharesOneOpenFile plays a `caddy reload`: the new config
// acquires the store before the old one releases it.
func TestPoolSharesOneOpenFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.db")
	old, err := keystore.Acquire(path, keystore.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, key, _, err := old.Create(t.Context(), keystore.NewClient{Name: "survives reload"})
	if err != nil {
		t.Fatal(err)
	}
	// The reloaded config names the same file another way.
	samePath := filepath.Join(dir, "sub", "..", "keys.db")
	reloaded, err := keystore.Acquire(samePath, keystore.PoolOptions{LockTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("second Acquire of an open file: %v", err)
	}
	if reloaded != old {
		t.Fatal("two Acquires of one file got different stores")
	}
	if err := reloaded.Close(); err == nil {
		t.Fatal("Close of a pooled store was accepted")
	}
	release(t, path)
	if got, _, err := reloaded.Lookup(t.Context(), keystore.HashKey(key)); err != nil || got.ID != c.ID {
		t.Fatalf("lookup after the old config released the store: %v", err)
	}
	assertLocked(t, path)
	reloaded.NoteUse(c.ID, time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
	release(t, samePath)

	s, err := keystore.Open(path, keystore.Options{LockTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open after the last Release: %v", err)
	}
	defer s.Close()
	if got, err := s.Get(t.Context(), c.ID); err != nil || got.LastUsedAt.IsZero() {
		t.Fatalf("last Release did not flush noted use: %v, %v", got.LastUsedAt, err)
	}
}

func TestPoolRefusesAnotherPrefix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	if _, err := keystore.Acquire(path, keystore.PoolOptions{KeyPrefix: "pos_live_"}); err != nil {
		t.Fatal(err)
	}
	if _, err := keystore.Acquire(path, keystore.PoolOptions{KeyPrefix: "rsa_live_"}); !errors.Is(err, keystore.ErrInvalid) {
		t.Fatalf("Acquire with another prefix: %v, want ErrInvalid", err)
	}
	// The refused Acquire holds no share: one Release closes the file.
	release(t, path)
	s, err := keystore.Open(path, keystore.Options{LockTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("refused Acquire kept the file open: %v", err)
	}
	s.Close()
}

func TestPoolReportsALockedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	other := openBolt(t, path, keystore.Options{}) // as if another process held it
	if _, err := keystore.Acquire(path, keystore.PoolOptions{LockTimeout: 50 * time.Millisecond}); !errors.Is(err, keystore.ErrLocked) {
		t.Fatalf("Acquire of a locked file: %v, want ErrLocked", err)
	}
	other.Close()
	if _, err := keystore.Acquire(path, keystore.PoolOptions{LockTimeout: 50 * time.Millisecond}); err != nil {
		t.Fatalf("Acquire once the file is free: %v", err)
	}
	release(t, path)
}

// A later Acquire's cache size and flush interval apply to the open store,
// so that a reloaded config (or the second module naming the store) is
// not silently ignored.
func TestAcquireTunesOpenStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	first, err := keystore.Acquire(path, keystore.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer keystore.Release(path)
	second, err := keystore.Acquire(path, keystore.PoolOptions{CacheMaxEntries: 7, FlushInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer keystore.Release(path)
	if first != second {
		t.Fatal("the second Acquire opened another store")
	}
	ctx := context.Background()
	c, _, _, err := first.Create(ctx, keystore.NewClient{Name: "till", Scopes: []string{"pos"}})
	if err != nil {
		t.Fatal(err)
	}
	// With the default 30s interval this use would not be written for 30s.
	first.NoteUse(c.ID, time.Now())
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := first.Get(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.LastUsedAt.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the flush interval of the second Acquire was not applied")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

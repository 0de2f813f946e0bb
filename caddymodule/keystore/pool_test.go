package keystore_test

import (
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
		t.Fatalf("direct Open while leased: %v, want ErrLocked", err)
	}
}

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
	reloaded, err := keystore.Acquire(filepath.Join(dir, "sub", "..", "keys.db"), keystore.PoolOptions{LockTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("second Acquire of an open file: %v", err)
	}
	if reloaded.CachedStore != old.CachedStore {
		t.Fatal("two leases on one file got different stores")
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil { // a second Close releases nothing more
		t.Fatal(err)
	}
	if got, _, err := reloaded.Lookup(t.Context(), keystore.HashKey(key)); err != nil || got.ID != c.ID {
		t.Fatalf("lookup after the old lease closed: %v", err)
	}
	assertLocked(t, path)
	reloaded.NoteUse(c.ID, time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
	if err := reloaded.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := keystore.Open(path, keystore.Options{LockTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open after the last lease closed: %v", err)
	}
	defer s.Close()
	if got, err := s.Get(t.Context(), c.ID); err != nil || got.LastUsedAt.IsZero() {
		t.Fatalf("last release did not flush noted use: %v, %v", got.LastUsedAt, err)
	}
}

func TestPoolRefusesAnotherPrefix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	l, err := keystore.Acquire(path, keystore.PoolOptions{KeyPrefix: "pos_live_"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keystore.Acquire(path, keystore.PoolOptions{KeyPrefix: "rsa_live_"}); !errors.Is(err, keystore.ErrInvalid) {
		t.Fatalf("Acquire with another prefix: %v, want ErrInvalid", err)
	}
	// The refused Acquire holds no share: closing the one lease closes the file.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
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
	l, err := keystore.Acquire(path, keystore.PoolOptions{LockTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("Acquire once the file is free: %v", err)
	}
	l.Close()
}

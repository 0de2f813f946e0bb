package keystore_test

import (
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore/conformance"
)

func newCached(t *testing.T, path string, now func() time.Time, opts keystore.CacheOptions) *keystore.CachedStore {
	t.Helper()
	opts.Now = now
	cs, err := keystore.NewCachedStore(openBolt(t, path, keystore.Options{Now: now}), opts)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// The cache changes no answer: the whole suite passes through it (the
// suite repeats each lookup, so the second can come from the cache).
func TestCachedStoreConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T, now func() time.Time) keystore.Store {
		return newCached(t, filepath.Join(t.TempDir(), "keys.db"), now, keystore.CacheOptions{})
	})
}

// lookupUntilHit repeats a lookup until the cache answers it (ristretto
// admits entries asynchronously), and returns that answer.
func lookupUntilHit(t *testing.T, cs *keystore.CachedStore, key string) (keystore.Client, error) {
	t.Helper()
	for range 1000 {
		before := cs.Stats().Hits
		c, _, err := cs.Lookup(t.Context(), keystore.HashKey(key))
		if cs.Stats().Hits > before {
			return c, err
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("the cache never answered")
	return keystore.Client{}, nil
}

func TestCachedStoreCachesFoundAndNotFound(t *testing.T) {
	cs := newCached(t, filepath.Join(t.TempDir(), "keys.db"), time.Now, keystore.CacheOptions{})
	defer cs.Close()
	c, key, _, err := cs.Create(t.Context(), keystore.NewClient{Name: "cached"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := lookupUntilHit(t, cs, key); err != nil || got.ID != c.ID {
		t.Fatalf("cached positive answer: %s, %v", got.ID, err)
	}
	unknown := cs.KeyFormat().Generate()
	if _, err := lookupUntilHit(t, cs, unknown); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("cached negative answer: %v", err)
	}
	if st := cs.Stats(); st.Misses < 2 || st.Hits < 2 {
		t.Fatalf("stats %+v", st)
	}
}

// A cached answer for a retiring key ends when its grace period does,
// without any mutation to invalidate it.
func TestCachedStoreEndsGraceOnTime(t *testing.T) {
	clock := conformance.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	cs := newCached(t, filepath.Join(t.TempDir(), "keys.db"), clock.Now, keystore.CacheOptions{})
	defer cs.Close()
	c, old, _, err := cs.Create(t.Context(), keystore.NewClient{Name: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := cs.Rotate(t.Context(), c.ID, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := lookupUntilHit(t, cs, old); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if _, err := lookupUntilHit(t, cs, old); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("cached retiring key after its grace period: %v", err)
	}
}

// TestCachedStoreNeverStaleAfterMutation: readers keep the cache full of
// answers while a writer rotates, disables and enables. Every change is
// visible to the very next lookup after the call returns, whatever the
// readers' in-flight lookups put into the cache.
func TestCachedStoreNeverStaleAfterMutation(t *testing.T) {
	cs := newCached(t, filepath.Join(t.TempDir(), "keys.db"), time.Now, keystore.CacheOptions{})
	defer cs.Close()
	ctx := t.Context()
	c, key, _, err := cs.Create(ctx, keystore.NewClient{Name: "hot"})
	if err != nil {
		t.Fatal(err)
	}
	var current atomic.Pointer[string]
	current.Store(&key)
	var retired sync.Map // keys rotated out without grace
	stop := make(chan struct{})
	var readers sync.WaitGroup
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
				_, _, _ = cs.Lookup(ctx, keystore.HashKey(*current.Load()))
				retired.Range(func(k, _ any) bool {
					_, _, _ = cs.Lookup(ctx, keystore.HashKey(k.(string)))
					return false
				})
			}
		}()
	}
	defer func() { close(stop); readers.Wait() }()

	for i := range 100 {
		old := *current.Load()
		_, newKey, err := cs.Rotate(ctx, c.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		current.Store(&newKey)
		retired.Store(old, true)
		if _, _, err := cs.Lookup(ctx, keystore.HashKey(old)); !errors.Is(err, keystore.ErrNotFound) {
			t.Fatalf("rotation %d: the rotated-out key was still accepted (%v)", i, err)
		}
		if _, err := cs.SetStatus(ctx, c.ID, keystore.StatusDisabled); err != nil {
			t.Fatal(err)
		}
		if got, _, err := cs.Lookup(ctx, keystore.HashKey(newKey)); err != nil || got.Status != keystore.StatusDisabled {
			t.Fatalf("round %d: lookup right after disable: %q, %v", i, got.Status, err)
		}
		if _, err := cs.SetStatus(ctx, c.ID, keystore.StatusActive); err != nil {
			t.Fatal(err)
		}
		if got, _, err := cs.Lookup(ctx, keystore.HashKey(newKey)); err != nil || got.Status != keystore.StatusActive {
			t.Fatalf("round %d: lookup right after enable: %q, %v", i, got.Status, err)
		}
	}
	if err := cs.Delete(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cs.Lookup(ctx, keystore.HashKey(*current.Load())); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("key of a deleted client: %v", err)
	}
}

func TestCachedStoreFlushesNotedUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	cs := newCached(t, path, time.Now, keystore.CacheOptions{FlushInterval: 20 * time.Millisecond})
	a, _, _, err := cs.Create(t.Context(), keystore.NewClient{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	t1 := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	cs.NoteUse(a.ID, t1)
	cs.NoteUse(a.ID, t1.Add(-time.Hour)) // older: ignored
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := cs.Get(t.Context(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.LastUsedAt.Equal(t1) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("noted use not flushed: last used %v", got.LastUsedAt)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cs.Close(); err != nil {
		t.Fatal(err)
	}
}

// Uses noted just before Close are not lost: Close flushes them.
func TestCachedStoreCloseFlushes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	cs := newCached(t, path, time.Now, keystore.CacheOptions{FlushInterval: time.Hour})
	a, _, _, err := cs.Create(t.Context(), keystore.NewClient{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	t1 := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	cs.NoteUse(a.ID, t1)
	cs.NoteUse("cl_01ZZZZZZZZZZZZZZZZZZZZZZZZ", t1) // deleted meanwhile: ignored
	if err := cs.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cs.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	s := openBolt(t, path, keystore.Options{})
	defer s.Close()
	got, err := s.Get(t.Context(), a.ID)
	if err != nil || !got.LastUsedAt.Equal(t1) {
		t.Fatalf("after Close: last used %v, %v", got.LastUsedAt, err)
	}
}

package keystore

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"
)

// Benchmarks of the per-request lookup and of the admin operations.
//
//	go test -run '^$' -bench . -benchtime 2s ./caddymodule/keystore/
//
// The 100,000-client stores are filled by loadClients (sorted, batched
// writes straight into the buckets), not by Create: see its comment.

const benchClients = 100_000

func benchStore(b *testing.B) *BoltStore {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "keys.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// warmCache looks h up until the cache answers.
func warmCache(b *testing.B, cs *CachedStore, h Hash) {
	b.Helper()
	for range 1000 {
		before := cs.Stats().Hits
		_, _, _ = cs.Lookup(context.Background(), h)
		if cs.Stats().Hits > before {
			return
		}
		cs.cache.Wait()
	}
	b.Fatal("cache never answered")
}

func benchCachedStore(b *testing.B) (*CachedStore, string) {
	b.Helper()
	s := benchStore(b)
	cs, err := NewCachedStore(s, CacheOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cs.Close() })
	_, key, _, err := cs.Create(context.Background(), NewClient{Name: "bench", Scopes: []string{"pos.read", "pos.write"}})
	if err != nil {
		b.Fatal(err)
	}
	return cs, key
}

// BenchmarkCachedLookupHit is the gateway's cost for a known key once
// cached: hash the key, then the cache hit.
func BenchmarkCachedLookupHit(b *testing.B) {
	cs, key := benchCachedStore(b)
	ctx := context.Background()
	warmCache(b, cs, HashKey(key))
	b.Run("hash+lookup", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := cs.Lookup(ctx, HashKey(key)); err != nil {
				b.Fatal(err)
			}
		}
	})
	h := HashKey(key)
	b.Run("lookup", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := cs.Lookup(ctx, h); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, _, err := cs.Lookup(ctx, h); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("hash only", func(b *testing.B) {
		for b.Loop() {
			h = HashKey(key)
		}
	})
}

// BenchmarkCachedLookupNegativeHit: a well-formed key that does not
// exist, answered from the cache.
func BenchmarkCachedLookupNegativeHit(b *testing.B) {
	cs, _ := benchCachedStore(b)
	ctx := context.Background()
	h := HashKey(cs.KeyFormat().Generate())
	warmCache(b, cs, h)
	for b.Loop() {
		if _, _, err := cs.Lookup(ctx, h); err == nil {
			b.Fatal("found a key never issued")
		}
	}
}

// BenchmarkKeyCheck: the format check that precedes every lookup.
func BenchmarkKeyCheck(b *testing.B) {
	f, _ := NewKeyFormat(DefaultKeyPrefix)
	key := f.Generate()
	for b.Loop() {
		if err := f.Check(key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNoteUse: the per-request last-used bookkeeping.
func BenchmarkNoteUse(b *testing.B) {
	cs, _ := benchCachedStore(b)
	now := time.Now()
	for b.Loop() {
		cs.NoteUse("cl_01M90WXAJVW8891VJYA4PJ9115", now)
	}
}

// BenchmarkBoltLookupUncached: a lookup that misses the cache, in a store
// of 100,000 clients, keys drawn at random.
func BenchmarkBoltLookupUncached(b *testing.B) {
	s := benchStore(b)
	keys := loadClients(b, s, benchClients)
	hashes := make([]Hash, len(keys))
	for i, k := range keys {
		hashes[i] = HashKey(k)
	}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := s.Lookup(ctx, hashes[rand.IntN(len(hashes))]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreate: durable creates (each one fsync'd transaction).
func BenchmarkCreate(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	nc := NewClient{Name: "bench", Scopes: []string{"pos.read", "pos.write"}}
	for b.Loop() {
		if _, _, _, err := s.Create(ctx, nc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRotate: durable rotations of one client, with a grace period
// (the heavier path: the old key is re-indexed and scheduled).
func BenchmarkRotate(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	c, _, _, err := s.Create(ctx, NewClient{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := s.Rotate(ctx, c.ID, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkList: one page of 50 from a store of 100,000 clients, at the
// start, from a cursor half-way, and filtered by status.
func BenchmarkList(b *testing.B) {
	s := benchStore(b)
	loadClients(b, s, benchClients)
	ctx := context.Background()
	// The cursor half-way through: 100 pages of 500.
	mid := ListOptions{Limit: MaxPageSize}
	for range benchClients / 2 / MaxPageSize {
		page, err := s.List(ctx, mid)
		if err != nil {
			b.Fatal(err)
		}
		mid.After = page.Next
	}
	for _, bc := range []struct {
		name string
		opts ListOptions
	}{
		{"first page", ListOptions{}},
		{"middle page", ListOptions{After: mid.After}},
		{"active first page", ListOptions{Status: StatusActive}},
		{"active middle page", ListOptions{Status: StatusActive, After: mid.After}},
		{"max page", ListOptions{Limit: MaxPageSize}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				page, err := s.List(ctx, bc.opts)
				if err != nil || len(page.Clients) == 0 {
					b.Fatal(err)
				}
			}
		})
	}
}

package keystore

import (
	"errors"
	"testing"
	"time"
)

// Two hashes with the same first 64 bits share a cache slot; a cached
// answer for one must never be given for the other.
func TestCachedStoreChecksTheFullHash(t *testing.T) {
	s := openTestStore(t, &testClock{t: time.Now()})
	cs, err := NewCachedStore(s, CacheOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	c, key, _, err := cs.Create(t.Context(), NewClient{Name: "c"})
	if err != nil {
		t.Fatal(err)
	}
	h := HashKey(key)
	if got, _, err := cs.Lookup(t.Context(), h); err != nil || got.ID != c.ID {
		t.Fatal(err)
	}
	cs.cache.Wait()
	twin := h
	twin[len(twin)-1] ^= 1
	if cacheKey(twin) != cacheKey(h) {
		t.Fatal("test hashes do not share a cache key")
	}
	if _, _, err := cs.Lookup(t.Context(), twin); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a hash sharing 64 bits with a cached one found %v", err)
	}
	if st := cs.Stats(); st.Hits != 0 {
		t.Fatalf("stats %+v: the twin was answered from the cache", st)
	}
}

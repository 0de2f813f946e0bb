package keystore

import (
	"context"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/dgraph-io/ristretto/v2"
	"go.uber.org/zap"
)

// Defaults of CacheOptions.
const (
	DefaultCacheMaxEntries = 100_000
	DefaultFlushInterval   = 30 * time.Second
	DefaultSweepInterval   = time.Minute
)

// CacheOptions configure NewCachedStore.
type CacheOptions struct {
	// MaxEntries bounds the lookup cache, positive and negative entries
	// together (default DefaultCacheMaxEntries).
	MaxEntries int
	// FlushInterval is how often noted key uses are written to the store
	// (default DefaultFlushInterval): the most last_used_at can lag.
	FlushInterval time.Duration
	// SweepInterval is how often the backend's Sweep runs, if it has one
	// (default DefaultSweepInterval).
	SweepInterval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives flush and sweep failures (default Caddy's logger).
	Logger *zap.Logger
}

// CachedStore is the Store the gateway uses: a backend with a lookup
// cache in front and a last-used tracker behind.
//
// Lookup answers, found and not found alike, are cached in ristretto,
// keyed by the key hash. The cache must never outlive a change, and
// ristretto's Set is asynchronous: a lookup that read the backend just
// before a rotation could land its answer in the cache just after it. So
// every entry carries the generation current when its lookup started,
// every mutation through the CachedStore bumps the generation after the
// backend committed, and an entry of an older generation is a miss. Once
// Rotate, SetStatus, Delete... return, no lookup can be answered from
// what was true before. Changes made behind the CachedStore's back (by
// another process) are not seen; the bbolt backend's file lock rules
// those out.
//
// A cached Client is shared by every lookup that hits it: callers must
// treat its Scopes and Metadata as read-only.
type CachedStore struct {
	backend    Store
	cache      *ristretto.Cache[uint64, *cachedLookup]
	generation atomic.Uint64
	hits       atomic.Uint64
	misses     atomic.Uint64
	now        func() time.Time
	usage      usageTracker
	logger     *zap.Logger

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
	pooled    bool // owned by the pool: closed by the last Release

	// The settings a later Acquire may change (tune.go).
	maxEntries atomic.Int64
	flushEvery atomic.Int64 // a time.Duration
	flush      *time.Ticker
}

// cachedLookup is one cached Lookup answer.
type cachedLookup struct {
	generation uint64
	hash       Hash // the full hash; the cache key is only its first 64 bits
	found      bool
	client     Client
	slot       KeySlot
}

// sweeper is implemented by backends that clean up expired data.
type sweeper interface {
	Sweep(ctx context.Context) (removed int, err error)
}

// NewCachedStore wraps backend, which the CachedStore then owns: Close
// closes it. It starts a goroutine that flushes noted uses and, if the
// backend has a Sweep method, sweeps it.
func NewCachedStore(backend Store, opts CacheOptions) (*CachedStore, error) {
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultCacheMaxEntries
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = DefaultSweepInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = caddy.Log().Named("gatehouse.keystore")
	}
	cache, err := ristretto.NewCache(&ristretto.Config[uint64, *cachedLookup]{
		NumCounters:        10 * int64(opts.MaxEntries), // ristretto's advice: 10x the entries
		MaxCost:            int64(opts.MaxEntries),      // each entry costs 1
		BufferItems:        64,
		IgnoreInternalCost: true,
	})
	if err != nil {
		return nil, fmt.Errorf("creating key lookup cache: %w", err)
	}
	cs := &CachedStore{
		backend: backend,
		cache:   cache,
		now:     opts.Now,
		logger:  opts.Logger,
		usage:   usageTracker{times: map[string]time.Time{}},
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	cs.maxEntries.Store(int64(opts.MaxEntries))
	cs.flushEvery.Store(int64(opts.FlushInterval))
	cs.flush = time.NewTicker(opts.FlushInterval)
	go cs.maintain(opts.SweepInterval)
	return cs, nil
}

func cacheKey(h Hash) uint64 { return binary.BigEndian.Uint64(h[:8]) }

// Lookup answers from the cache when it can, from the backend otherwise.
// A cache hit is checked against the full hash in constant time, so a key
// that merely shares the first 64 bits of another's hash finds nothing.
func (cs *CachedStore) Lookup(ctx context.Context, h Hash) (Client, KeySlot, error) {
	generation := cs.generation.Load()
	if e, ok := cs.cache.Get(cacheKey(h)); ok && e.generation == generation &&
		subtle.ConstantTimeCompare(e.hash[:], h[:]) == 1 {
		cs.hits.Add(1)
		if !e.found || e.slot == SlotRetiring && (e.client.Retiring == nil || !cs.now().Before(e.client.Retiring.ExpiresAt)) {
			return Client{}, 0, ErrNotFound
		}
		return e.client, e.slot, nil
	}
	cs.misses.Add(1)
	c, slot, err := cs.backend.Lookup(ctx, h)
	switch {
	case err == nil:
		cs.cache.Set(cacheKey(h), &cachedLookup{generation: generation, hash: h, found: true, client: c, slot: slot}, 1)
	case errors.Is(err, ErrNotFound):
		cs.cache.Set(cacheKey(h), &cachedLookup{generation: generation, hash: h}, 1)
	}
	return c, slot, err
}

// invalidate makes every cached answer a miss. Called after a mutation
// committed, never before: see the CachedStore comment.
func (cs *CachedStore) invalidate() { cs.generation.Add(1) }

// CacheStats counts lookups answered by the cache and by the backend.
type CacheStats struct {
	Hits   uint64
	Misses uint64
}

// Stats returns the lookup counters since the CachedStore was made.
func (cs *CachedStore) Stats() CacheStats {
	return CacheStats{Hits: cs.hits.Load(), Misses: cs.misses.Load()}
}

// Create passes through to the backend, then invalidates the cache.
func (cs *CachedStore) Create(ctx context.Context, c NewClient) (Client, string, bool, error) {
	client, key, replayed, err := cs.backend.Create(ctx, c)
	if err == nil {
		cs.invalidate()
	}
	return client, key, replayed, err
}

// Update passes through to the backend, then invalidates the cache.
func (cs *CachedStore) Update(ctx context.Context, id string, u ClientUpdate) (Client, error) {
	c, err := cs.backend.Update(ctx, id, u)
	if err == nil {
		cs.invalidate()
	}
	return c, err
}

// Rotate passes through to the backend, then invalidates the cache.
func (cs *CachedStore) Rotate(ctx context.Context, id string, grace time.Duration) (Client, string, error) {
	c, key, err := cs.backend.Rotate(ctx, id, grace)
	if err == nil {
		cs.invalidate()
	}
	return c, key, err
}

// SetStatus passes through to the backend, then invalidates the cache.
func (cs *CachedStore) SetStatus(ctx context.Context, id string, s Status) (Client, error) {
	c, err := cs.backend.SetStatus(ctx, id, s)
	if err == nil {
		cs.invalidate()
	}
	return c, err
}

// Delete passes through to the backend, then invalidates the cache.
func (cs *CachedStore) Delete(ctx context.Context, id string) error {
	err := cs.backend.Delete(ctx, id)
	if err == nil {
		cs.invalidate()
	}
	return err
}

// RecordUse passes through without invalidating: a last-used time
// changes no lookup decision, and dropping the cache every flush would
// cost far more than a stale LastUsedAt in a cached Client.
func (cs *CachedStore) RecordUse(ctx context.Context, used map[string]time.Time) error {
	return cs.backend.RecordUse(ctx, used)
}

// Get reads from the backend (uncached: admin reads want the truth).
func (cs *CachedStore) Get(ctx context.Context, id string) (Client, error) {
	return cs.backend.Get(ctx, id)
}

// List reads from the backend.
func (cs *CachedStore) List(ctx context.Context, opts ListOptions) (Page, error) {
	return cs.backend.List(ctx, opts)
}

// Audit reads from the backend.
func (cs *CachedStore) Audit(ctx context.Context, q AuditQuery) (AuditPage, error) {
	return cs.backend.Audit(ctx, q)
}

// KeyFormat is the backend's key format.
func (cs *CachedStore) KeyFormat() KeyFormat { return cs.backend.KeyFormat() }

// Close stops the background work, flushes the uses noted so far, and
// closes the cache and the backend. Later calls return the first result.
// A store from Acquire is shared: its Close is refused, and Release
// closes it once its last user is done.
func (cs *CachedStore) Close() error {
	if cs.pooled {
		return errors.New("closing a pooled key store: call keystore.Release instead")
	}
	return cs.close()
}

func (cs *CachedStore) close() error {
	cs.closeOnce.Do(func() {
		close(cs.stop)
		<-cs.done
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		flushErr := cs.Flush(ctx)
		cs.cache.Close()
		cs.closeErr = errors.Join(flushErr, cs.backend.Close())
	})
	return cs.closeErr
}

var _ Store = (*CachedStore)(nil)

package keystore

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/gatehouse-gw/gatehouse/caddymodule/storeregistry"
)

// stores holds the key stores open in this process, by absolute path.
// `caddy reload` provisions the new config before it cleans up the old
// one, so both hold a lease on the same open file for a while; a second
// bbolt open of that file would wait for a lock this process holds.
var stores = caddy.NewUsagePool()

// PoolOptions configure the store that the first Acquire of a path
// opens. Later Acquires of the same path share that store: KeyPrefix is
// checked against it, and a non-zero CacheMaxEntries or FlushInterval is
// applied to it (the latest wins), so a reload can change them; the other
// options stay as the first Acquire set them.
type PoolOptions struct {
	// KeyPrefix, when set, must be the store's key prefix (it is set for
	// good when the file is created). Empty accepts the store's prefix.
	KeyPrefix string
	// LockTimeout bounds the wait for the file lock (default DefaultLockTimeout).
	LockTimeout time.Duration
	// CacheMaxEntries bounds the lookup cache (default DefaultCacheMaxEntries).
	CacheMaxEntries int
	// FlushInterval is how often noted uses are written (default DefaultFlushInterval).
	FlushInterval time.Duration
	// SweepInterval is how often expired data is swept (default DefaultSweepInterval).
	SweepInterval time.Duration
	// Logger receives background failures (default Caddy's logger).
	Logger *zap.Logger
}

// pooled is the pool's value: the shared store, listed in the store
// registry for hot backups while it is open, and closed when the last
// user releases it.
type pooled struct {
	*CachedStore
	unregister func()
}

// Destruct implements caddy.Destructor.
func (p pooled) Destruct() error {
	p.unregister()
	return p.CachedStore.close()
}

// poolKey is the key of path in the pool: absolute and cleaned, so that
// two spellings of one file share it.
func poolKey(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("key store %s: %w", path, err)
	}
	return abs, nil
}

// Acquire returns the process-wide store for the key store file at path.
// The first Acquire of a file opens it, with the lookup cache and the
// background flush and sweep; later ones share it. Each successful
// Acquire must be matched by one Release of the same path; the store's
// own Close is refused, since others may still use it.
func Acquire(path string, opts PoolOptions) (*CachedStore, error) {
	key, err := poolKey(path)
	if err != nil {
		return nil, err
	}
	v, _, err := stores.LoadOrNew(key, func() (caddy.Destructor, error) {
		backend, err := Open(key, Options{KeyPrefix: opts.KeyPrefix, LockTimeout: opts.LockTimeout})
		if err != nil {
			return nil, err
		}
		cs, err := NewCachedStore(backend, CacheOptions{
			MaxEntries:    opts.CacheMaxEntries,
			FlushInterval: opts.FlushInterval,
			SweepInterval: opts.SweepInterval,
			Logger:        opts.Logger,
		})
		if err != nil {
			return nil, errors.Join(err, backend.Close())
		}
		cs.pooled = true
		return pooled{cs, storeregistry.Register(storeregistry.KindKeys, key, backend)}, nil
	})
	if err != nil {
		return nil, err // a failed open is not pooled, so there is nothing to release
	}
	cs := v.(pooled).CachedStore
	if prefix := cs.KeyFormat().Prefix(); opts.KeyPrefix != "" && opts.KeyPrefix != prefix {
		return nil, errors.Join(
			fmt.Errorf("opening key store %s: %w: the store issues keys with prefix %q, not %q", key, ErrInvalid, prefix, opts.KeyPrefix),
			Release(key))
	}
	cs.tune(key, opts.CacheMaxEntries, opts.FlushInterval)
	return cs, nil
}

// Release gives back one Acquire of path. The last release flushes noted
// uses and closes the file.
func Release(path string) error {
	key, err := poolKey(path)
	if err != nil {
		return err
	}
	_, err = stores.Delete(key)
	return err
}

// RangePooled calls f for each store open in the pool, by absolute path,
// until f returns false; for metrics that report on every open store.
func RangePooled(f func(path string, store *CachedStore) bool) {
	stores.Range(func(key, value any) bool {
		return f(key.(string), value.(pooled).CachedStore)
	})
}

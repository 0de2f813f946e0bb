package keystore

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
)

// stores holds the key stores open in this process, by absolute path.
// `caddy reload` provisions the new config before it cleans up the old
// one, so both hold a lease on the same open file for a while; a second
// bbolt open of that file would wait for a lock this process holds.
var stores = caddy.NewUsagePool()

// PoolOptions configure the store that the first Acquire of a path
// opens. Later Acquires of the same path share that store as it is; only
// KeyPrefix is checked against it.
type PoolOptions struct {
	// KeyPrefix, when set, must be the store's key prefix (it is set for
	// good when the file is created). Empty accepts the store's prefix.
	KeyPrefix string
	// LockTimeout bounds the wait for the file lock (default DefaultLockTimeout).
	LockTimeout time.Duration
	// CacheMaxEntries bounds the lookup cache (default DefaultCacheMaxEntries).
	CacheMaxEntries int64
	// FlushInterval is how often noted uses are written (default DefaultFlushInterval).
	FlushInterval time.Duration
	// SweepInterval is how often expired data is swept (default DefaultSweepInterval).
	SweepInterval time.Duration
	// Logger receives background failures (default Caddy's logger).
	Logger *zap.Logger
}

// pooled is the pool's value: the shared store, closed when the last
// lease is released.
type pooled struct{ *CachedStore }

// Destruct implements caddy.Destructor.
func (p pooled) Destruct() error { return p.CachedStore.Close() }

// Lease is one user's share of a pooled store: the Store to use, whose
// Close releases the share. The file is flushed and closed when the last
// lease is closed.
type Lease struct {
	*CachedStore
	path     string
	once     sync.Once
	closeErr error
}

// Acquire returns a lease on the key store at path (made absolute and
// cleaned, so that two spellings of one file share it). The first lease
// opens the bbolt file, the lookup cache and the background flush and
// sweep; later ones share them. Every lease must be closed once.
func Acquire(path string, opts PoolOptions) (*Lease, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("opening key store %s: %w", path, err)
	}
	v, _, err := stores.LoadOrNew(abs, func() (caddy.Destructor, error) {
		backend, err := Open(abs, Options{KeyPrefix: opts.KeyPrefix, LockTimeout: opts.LockTimeout})
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
		return pooled{cs}, nil
	})
	if err != nil {
		return nil, err // a failed open is not pooled, so there is nothing to release
	}
	l := &Lease{CachedStore: v.(pooled).CachedStore, path: abs}
	if prefix := l.KeyFormat().Prefix(); opts.KeyPrefix != "" && opts.KeyPrefix != prefix {
		return nil, errors.Join(
			fmt.Errorf("opening key store %s: %w: the store issues keys with prefix %q, not %q", abs, ErrInvalid, prefix, opts.KeyPrefix),
			l.Close())
	}
	return l, nil
}

// Path is the absolute path of the leased store.
func (l *Lease) Path() string { return l.path }

// Close releases this lease; closing it again does nothing. The last
// release flushes noted uses and closes the file.
func (l *Lease) Close() error {
	l.once.Do(func() { _, l.closeErr = stores.Delete(l.path) })
	return l.closeErr
}

var _ Store = (*Lease)(nil)

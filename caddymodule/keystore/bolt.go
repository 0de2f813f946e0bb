package keystore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// DefaultLockTimeout is how long Open waits for another process to
// release the file before giving up with ErrLocked.
const DefaultLockTimeout = time.Second

// Options configure Open.
type Options struct {
	// KeyPrefix is the prefix of the keys the store issues. A new store
	// records it (default DefaultKeyPrefix); an existing store keeps the
	// prefix it was created with, and opening it with another one fails,
	// so that every key of a store passes the same KeyFormat check.
	KeyPrefix string
	// LockTimeout bounds the wait for the file lock (default
	// DefaultLockTimeout). A running gateway holds the lock for as long as
	// it runs.
	LockTimeout time.Duration
	// Now is the clock (default time.Now); tests inject their own.
	Now func() time.Time
}

// BoltStore is the bbolt backend of Store: one file, one writer process.
// Every mutation is a single bbolt Update, committed with fsync, that
// writes the change, its indexes and its audit entry together.
type BoltStore struct {
	db     *bolt.DB
	path   string
	format KeyFormat
	now    func() time.Time
}

// Open opens (creating if needed) the key store at path. The file is
// created with mode 0600 and its directory with 0700, since it is the
// list of who may call the APIs. If another process holds the file, Open
// fails after opts.LockTimeout with an error wrapping ErrLocked.
func Open(path string, opts Options) (*BoltStore, error) {
	if opts.KeyPrefix != "" {
		if err := validatePrefix(opts.KeyPrefix); err != nil {
			return nil, fmt.Errorf("opening key store %s: %w", path, err)
		}
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("opening key store %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("opening key store %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("opening key store %s: %w", path, err)
	}
	s := &BoltStore{db: db, path: path, now: opts.Now}
	if err := db.Update(func(tx *bolt.Tx) error { return s.initialize(tx, opts.KeyPrefix) }); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("opening key store %s: %w", path, err)
	}
	return s, nil
}

// initialize creates the buckets of a new file, checks the schema of an
// existing one, and settles the key prefix.
func (s *BoltStore) initialize(tx *bolt.Tx, prefix string) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bucketMeta)
	switch v := meta.Get(metaSchema); {
	case v == nil:
		if err := meta.Put(metaSchema, []byte(schemaVersion)); err != nil {
			return err
		}
	case string(v) != schemaVersion:
		return fmt.Errorf("unsupported key store schema %q (this build reads %q)", v, schemaVersion)
	}
	stored := string(meta.Get(metaKeyPrefix))
	switch {
	case stored == "":
		if prefix == "" {
			prefix = DefaultKeyPrefix
		}
		if err := meta.Put(metaKeyPrefix, []byte(prefix)); err != nil {
			return err
		}
	case prefix == "":
		prefix = stored
	case prefix != stored:
		return fmt.Errorf("%w: the store issues keys with prefix %q, not %q", ErrInvalid, stored, prefix)
	}
	format, err := NewKeyFormat(prefix)
	if err != nil {
		return err
	}
	s.format = format
	return nil
}

// Path is the file the store was opened from.
func (s *BoltStore) Path() string { return s.path }

// KeyFormat is the format of this store's keys.
func (s *BoltStore) KeyFormat() KeyFormat { return s.format }

// Close releases the file lock.
func (s *BoltStore) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("closing key store %s: %w", s.path, err)
	}
	return nil
}

// view runs fn in a read transaction.
func (s *BoltStore) view(ctx context.Context, fn func(t txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(func(tx *bolt.Tx) error { return fn(txn{tx: tx, now: storedTime(s.now())}) })
}

// update runs fn as one durable change; an error from fn rolls back
// everything fn wrote, audit entry included.
func (s *BoltStore) update(ctx context.Context, fn func(t txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error { return fn(txn{tx: tx, now: storedTime(s.now())}) })
}

// Get returns the client with id.
func (s *BoltStore) Get(ctx context.Context, id string) (Client, error) {
	var c Client
	err := s.view(ctx, func(t txn) error {
		r, err := t.client(id)
		if err != nil {
			return err
		}
		c = r.client(t.now)
		return nil
	})
	return c, err
}

// Lookup finds the client owning the key with hash h. A retiring key
// whose grace period has ended is not found, even before Sweep removes it.
func (s *BoltStore) Lookup(ctx context.Context, h Hash) (Client, KeySlot, error) {
	var (
		c    Client
		slot KeySlot
	)
	err := s.view(ctx, func(t txn) error {
		v := t.bucket(bucketKeyHashes).Get(h[:])
		if len(v) < 2 {
			return ErrNotFound
		}
		slot = KeySlot(v[0])
		r, err := t.client(string(v[1:]))
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("key index points at missing client %q: %w", v[1:], ErrNotFound)
		}
		if err != nil {
			return err
		}
		if !r.matches(h, slot) || slot == SlotRetiring && r.retiringExpired(t.now) {
			return ErrNotFound
		}
		c = r.client(t.now)
		return nil
	})
	return c, slot, err
}

var _ Store = (*BoltStore)(nil)

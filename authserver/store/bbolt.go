package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bucket names of the bbolt layout. Values are JSON; the expiry bucket
// indexes ephemeral records by expiry so that sweeping reads only what
// has expired.
var (
	bucketClients   = []byte("clients")
	bucketUsers     = []byte("users")
	bucketUsernames = []byte("usernames") // lower-cased username -> user id
	bucketConsents  = []byte("consents")  // user id \x00 client id -> consent
	bucketSessions  = []byte("sessions")
	bucketAuthReqs  = []byte("auth_requests")
	bucketCodes     = []byte("codes") // code hash -> auth request id
	bucketRefresh   = []byte("refresh_tokens")
	bucketFamilies  = []byte("refresh_families")
	bucketRevoked   = []byte("revoked_tokens") // jti -> expiry
	bucketKeys      = []byte("signing_keys")
	bucketSecrets   = []byte("secrets")
	bucketExpiry    = []byte("expiry") // 8-byte expiry, kind byte, key -> empty

	allBuckets = [][]byte{bucketClients, bucketUsers, bucketUsernames, bucketConsents,
		bucketSessions, bucketAuthReqs, bucketCodes, bucketRefresh, bucketFamilies,
		bucketRevoked, bucketKeys, bucketSecrets, bucketExpiry}
)

// Kinds of records in the expiry index, each naming the bucket it sweeps.
const (
	kindAuthReq byte = 'a'
	kindSession byte = 's'
	kindRefresh byte = 'r'
	kindFamily  byte = 'f'
	kindRevoked byte = 'x'
)

// OpenTimeout is how long Open waits for another process to release the file.
const OpenTimeout = time.Second

// Bolt is the bbolt backend: one file, used by one process at a time.
type Bolt struct {
	db *bolt.DB
}

// OpenBolt opens (creating if needed) the store file at path. It fails
// with ErrLocked when another process holds the file.
func OpenBolt(path string) (*Bolt, error) {
	// NoSync stays off: a change that returned success is on disk.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: OpenTimeout})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("opening authserver store %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("opening authserver store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("initialising authserver store %s: %w", path, err)
	}
	return &Bolt{db: db}, nil
}

// Close closes the file.
func (b *Bolt) Close() error { return b.db.Close() }

func getJSON(tx *bolt.Tx, bucket []byte, key string, v any) error {
	data := tx.Bucket(bucket).Get([]byte(key))
	if data == nil {
		return ErrNotFound
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decoding %s/%s: %w", bucket, key, err)
	}
	return nil
}

func putJSON(tx *bolt.Tx, bucket []byte, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s/%s: %w", bucket, key, err)
	}
	return tx.Bucket(bucket).Put([]byte(key), data)
}

func expiryKey(at time.Time, kind byte, key string) []byte {
	k := make([]byte, 9, 9+len(key))
	binary.BigEndian.PutUint64(k, uint64(at.UnixNano()))
	k[8] = kind
	return append(k, key...)
}

// setExpiry moves the expiry index entry of a record from old to new;
// a zero time means no entry.
func setExpiry(tx *bolt.Tx, kind byte, key string, old, new time.Time) error {
	idx := tx.Bucket(bucketExpiry)
	if !old.IsZero() {
		if old.Equal(new) {
			return nil
		}
		if err := idx.Delete(expiryKey(old, kind, key)); err != nil {
			return err
		}
	}
	if new.IsZero() {
		return nil
	}
	return idx.Put(expiryKey(new, kind, key), nil)
}

// DeleteExpired removes every indexed record whose expiry is before now,
// in one transaction.
func (b *Bolt) DeleteExpired(_ context.Context, now time.Time) (int, error) {
	removed := 0
	err := b.db.Update(func(tx *bolt.Tx) error {
		limit := make([]byte, 8)
		binary.BigEndian.PutUint64(limit, uint64(now.UnixNano()))
		var due [][]byte
		c := tx.Bucket(bucketExpiry).Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k[:8], limit) < 0; k, _ = c.Next() {
			due = append(due, bytes.Clone(k))
		}
		for _, k := range due {
			if err := tx.Bucket(bucketExpiry).Delete(k); err != nil {
				return err
			}
			key := string(k[9:])
			var err error
			switch k[8] {
			case kindAuthReq:
				err = deleteAuthRequest(tx, key)
			case kindSession:
				err = tx.Bucket(bucketSessions).Delete([]byte(key))
			case kindRefresh:
				err = tx.Bucket(bucketRefresh).Delete([]byte(key))
			case kindFamily:
				err = tx.Bucket(bucketFamilies).Delete([]byte(key))
			case kindRevoked:
				err = tx.Bucket(bucketRevoked).Delete([]byte(key))
			}
			if err != nil {
				return err
			}
			removed++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sweeping expired records: %w", err)
	}
	return removed, nil
}

var _ Store = (*Bolt)(nil)

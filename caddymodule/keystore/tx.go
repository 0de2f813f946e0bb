package keystore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Buckets of the bbolt file. Every index is maintained in the same
// transaction as the record it points to.
var (
	// bucketMeta holds the schema version and the store's key prefix.
	bucketMeta = []byte("meta")
	// bucketClients: client id -> clientRecord (JSON). Ids sort by
	// creation time, so a cursor walk is creation order.
	bucketClients = []byte("clients")
	// bucketKeyHashes: key hash -> slot byte + client id.
	bucketKeyHashes = []byte("key_hashes")
	// bucketStatus: status + 0x00 + client id -> empty, for List by status.
	bucketStatus = []byte("client_status")
	// bucketRetiring: 8-byte big-endian grace end (Unix ns) + client id ->
	// empty, so Sweep finds ended grace periods without reading every client.
	bucketRetiring = []byte("retiring_expiry")
	// bucketIdempotency: idempotencyIndex -> idempotencyRecord (JSON).
	bucketIdempotency = []byte("idempotency")
	// bucketAudit: audit id -> auditRecord (JSON), time-ordered.
	bucketAudit = []byte("audit")
	// bucketAuditTarget: client id + 0x00 + audit id -> empty.
	bucketAuditTarget = []byte("audit_by_target")

	allBuckets = [][]byte{bucketMeta, bucketClients, bucketKeyHashes, bucketStatus,
		bucketRetiring, bucketIdempotency, bucketAudit, bucketAuditTarget}
)

// Meta keys.
var (
	metaSchema    = []byte("schema")
	metaKeyPrefix = []byte("key_prefix")
)

// schemaVersion is the layout described above.
const schemaVersion = "1"

// txn is one bbolt transaction with the operations the store is built
// from. Methods that change state must only be called inside Update.
type txn struct {
	tx  *bolt.Tx
	now time.Time
}

func (t txn) bucket(name []byte) *bolt.Bucket { return t.tx.Bucket(name) }

// client reads the record of id, or ErrNotFound.
func (t txn) client(id string) (*clientRecord, error) {
	b := t.bucket(bucketClients).Get([]byte(id))
	if b == nil {
		return nil, fmt.Errorf("client %q: %w", id, ErrNotFound)
	}
	return decodeClient(b)
}

func (t txn) putClient(r *clientRecord) error {
	b, err := encodeClient(r)
	if err != nil {
		return err
	}
	return t.bucket(bucketClients).Put([]byte(r.ID), b)
}

// indexKey points hash at slot of client id. A hash already indexed is
// refused rather than overwritten: with 256-bit keys it cannot happen,
// and if it ever did, two clients must not share a key.
func (t txn) indexKey(hash []byte, id string, slot KeySlot) error {
	idx := t.bucket(bucketKeyHashes)
	if idx.Get(hash) != nil {
		return errors.New("key hash already indexed")
	}
	v := make([]byte, 1+len(id))
	v[0] = byte(slot)
	copy(v[1:], id)
	return idx.Put(hash, v)
}

// reindexKey moves an indexed hash to another slot of the same client.
func (t txn) reindexKey(hash []byte, id string, slot KeySlot) error {
	if err := t.bucket(bucketKeyHashes).Delete(hash); err != nil {
		return err
	}
	return t.indexKey(hash, id, slot)
}

func (t txn) unindexKey(hash []byte) error {
	return t.bucket(bucketKeyHashes).Delete(hash)
}

func statusKey(s Status, id string) []byte {
	return append(append([]byte(s), 0), id...)
}

func (t txn) indexStatus(s Status, id string) error {
	return t.bucket(bucketStatus).Put(statusKey(s, id), nil)
}

func (t txn) unindexStatus(s Status, id string) error {
	return t.bucket(bucketStatus).Delete(statusKey(s, id))
}

func retiringKey(expires time.Time, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(expires.UnixNano()))
	return append(k, id...)
}

// retire makes the current key of r a retiring key until expires.
func (t txn) retire(r *clientRecord, expires time.Time) error {
	r.Retiring = &retiringRecord{keyRecord: r.Key, ExpiresAt: expires}
	if err := t.reindexKey(r.Key.Hash, r.ID, SlotRetiring); err != nil {
		return err
	}
	return t.bucket(bucketRetiring).Put(retiringKey(expires, r.ID), nil)
}

// dropRetiring forgets r's retiring key, if any.
func (t txn) dropRetiring(r *clientRecord) error {
	if r.Retiring == nil {
		return nil
	}
	if err := t.unindexKey(r.Retiring.Hash); err != nil {
		return err
	}
	if err := t.bucket(bucketRetiring).Delete(retiringKey(r.Retiring.ExpiresAt, r.ID)); err != nil {
		return err
	}
	r.Retiring = nil
	return nil
}

// dropExpiredRetiring forgets r's retiring key if its grace period has
// ended; every mutation of a client starts with it, so ended rotations
// are cleaned up without waiting for Sweep.
func (t txn) dropExpiredRetiring(r *clientRecord) error {
	if r.retiringExpired(t.now) {
		return t.dropRetiring(r)
	}
	return nil
}

// mutableClient reads id for a change: ErrNotFound, or its record with
// any ended rotation already dropped.
func (t txn) mutableClient(id string) (*clientRecord, error) {
	r, err := t.client(id)
	if err != nil {
		return nil, err
	}
	return r, t.dropExpiredRetiring(r)
}

// lastKey returns the greatest key of bucket name, or "".
func (t txn) lastKey(name []byte) string {
	k, _ := t.bucket(name).Cursor().Last()
	return string(k)
}

package keystore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
)

// sweepBatch bounds the work of one Sweep, so that its transaction stays
// short; what is left is swept next time.
const sweepBatch = 10_000

// Sweep removes what has expired: retiring keys whose grace period has
// ended (their index entries and rotation state) and idempotency records
// older than IdempotencyTTL. Expired data is already invisible to every
// read, so Sweep changes no answer; it only keeps the file from growing.
// The pool runs it periodically. It reports how many items it removed.
func (s *BoltStore) Sweep(ctx context.Context) (removed int, err error) {
	err = s.update(ctx, func(t txn) error {
		removed = 0
		n, err := t.sweepRetiring()
		if err != nil {
			return err
		}
		removed += n
		n, err = t.sweepIdempotency()
		removed += n
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sweeping key store %s: %w", s.path, err)
	}
	return removed, nil
}

// sweepRetiring ends the rotations whose grace period is over. Keys are
// collected before anything is deleted, since deleting under a bbolt
// cursor can skip entries.
func (t txn) sweepRetiring() (int, error) {
	var due [][]byte
	c := t.bucket(bucketRetiring).Cursor()
	for k, _ := c.First(); k != nil && len(due) < sweepBatch; k, _ = c.Next() {
		if len(k) < 8 || int64(binary.BigEndian.Uint64(k[:8])) > t.now.UnixNano() {
			break
		}
		due = append(due, bytes.Clone(k))
	}
	for _, k := range due {
		r, err := t.client(string(k[8:]))
		switch {
		case errors.Is(err, ErrNotFound):
			// Client gone: only the schedule entry is left.
		case err != nil:
			return 0, err
		default:
			if err := t.dropExpiredRetiring(r); err != nil {
				return 0, err
			}
			if err := t.putClient(r); err != nil {
				return 0, err
			}
		}
		if err := t.bucket(bucketRetiring).Delete(k); err != nil {
			return 0, err
		}
	}
	return len(due), nil
}

// sweepIdempotency deletes idempotency records past their expiry.
func (t txn) sweepIdempotency() (int, error) {
	b := t.bucket(bucketIdempotency)
	var due [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil && len(due) < sweepBatch; k, v = c.Next() {
		rec, err := decodeIdempotency(v)
		if err != nil {
			return 0, err
		}
		if !t.now.Before(rec.ExpiresAt) {
			due = append(due, bytes.Clone(k))
		}
	}
	for _, k := range due {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(due), nil
}

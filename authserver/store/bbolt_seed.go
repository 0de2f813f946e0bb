package store

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketSeed records applied seed entries: entry key -> when. It is
// created by the first mark, so stores from before it need no migration.
var bucketSeed = []byte("seed_entries")

type seedMark struct {
	AppliedAt time.Time `json:"applied_at"`
}

// SeedApplied reports whether the seed entry named key was marked applied.
func (b *Bolt) SeedApplied(_ context.Context, key string) (bool, error) {
	var applied bool
	err := b.db.View(func(tx *bolt.Tx) error {
		if bucket := tx.Bucket(bucketSeed); bucket != nil {
			applied = bucket.Get([]byte(key)) != nil
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("reading seed entry marks: %w", err)
	}
	return applied, nil
}

// MarkSeedApplied records the seed entry named key as applied at at.
func (b *Bolt) MarkSeedApplied(_ context.Context, key string, at time.Time) error {
	if key == "" {
		return ErrInvalid
	}
	err := b.db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucketSeed); err != nil {
			return err
		}
		return putJSON(tx, bucketSeed, key, seedMark{AppliedAt: at})
	})
	if err != nil {
		return fmt.Errorf("marking seed entry applied: %w", err)
	}
	return nil
}

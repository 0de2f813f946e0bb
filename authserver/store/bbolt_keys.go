package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"
)

// ListSigningKeys returns all signing keys, oldest first.
func (b *Bolt) ListSigningKeys(_ context.Context) ([]SigningKey, error) {
	var keys []SigningKey
	err := b.db.View(func(tx *bolt.Tx) error {
		var err error
		keys, err = readKeys(tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing signing keys: %w", err)
	}
	return keys, nil
}

func readKeys(tx *bolt.Tx) ([]SigningKey, error) {
	var keys []SigningKey
	err := tx.Bucket(bucketKeys).ForEach(func(k, v []byte) error {
		var key SigningKey
		if err := json.Unmarshal(v, &key); err != nil {
			return fmt.Errorf("decoding signing key %s: %w", k, err)
		}
		keys = append(keys, key)
		return nil
	})
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].CreatedAt.Before(keys[j].CreatedAt) })
	return keys, err
}

// UpdateSigningKeys replaces the key set with what change returns.
func (b *Bolt) UpdateSigningKeys(_ context.Context, change func([]SigningKey) ([]SigningKey, error)) error {
	err := b.db.Update(func(tx *bolt.Tx) error {
		keys, err := readKeys(tx)
		if err != nil {
			return err
		}
		keys, err = change(keys)
		if err != nil {
			return err
		}
		bucket := tx.Bucket(bucketKeys)
		keep := make(map[string]bool, len(keys))
		for _, k := range keys {
			if k.ID == "" || len(k.Private) == 0 {
				return ErrInvalid
			}
			keep[k.ID] = true
			if err := putJSON(tx, bucketKeys, k.ID, k); err != nil {
				return err
			}
		}
		return deleteKeys(bucket, func(k []byte) bool { return !keep[string(k)] })
	})
	if err != nil {
		return fmt.Errorf("updating signing keys: %w", err)
	}
	return nil
}

// Secret returns the named secret, storing fresh the first time.
func (b *Bolt) Secret(_ context.Context, name string, fresh []byte) ([]byte, error) {
	var out []byte
	err := b.db.Update(func(tx *bolt.Tx) error {
		secrets := tx.Bucket(bucketSecrets)
		if v := secrets.Get([]byte(name)); v != nil {
			out = bytes.Clone(v)
			return nil
		}
		if len(fresh) == 0 {
			return ErrInvalid
		}
		out = bytes.Clone(fresh)
		return secrets.Put([]byte(name), out)
	})
	if err != nil {
		return nil, fmt.Errorf("reading secret %s: %w", name, err)
	}
	return out, nil
}

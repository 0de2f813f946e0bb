package keystore

import (
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"
)

// Snapshot writes a consistent copy of the store file to w, as of one
// read transaction, while the store stays in use: a hot backup. The copy
// is a complete bbolt file that Open accepts.
func (s *BoltStore) Snapshot(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("copying key store %s: %w", s.path, err)
	}
	return n, nil
}

// SnapshotSize is the size a Snapshot taken now would have.
func (s *BoltStore) SnapshotSize() (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Size()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("reading the size of key store %s: %w", s.path, err)
	}
	return n, nil
}

package store

import (
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"
)

// Snapshot writes a consistent copy of the store file to w, as of one
// read transaction, while the store stays in use: a hot backup. The copy
// is a complete bbolt file that OpenBolt accepts.
func (b *Bolt) Snapshot(w io.Writer) (int64, error) {
	var n int64
	err := b.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("copying authserver store %s: %w", b.db.Path(), err)
	}
	return n, nil
}

// SnapshotSize is the size a Snapshot taken now would have.
func (b *Bolt) SnapshotSize() (int64, error) {
	var n int64
	err := b.db.View(func(tx *bolt.Tx) error {
		n = tx.Size()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("reading the size of authserver store %s: %w", b.db.Path(), err)
	}
	return n, nil
}

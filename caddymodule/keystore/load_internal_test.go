package keystore

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// loadClients writes n active clients straight into s's buckets, in
// sorted key order and in transactions of loadBatch entries, bypassing
// Create: a Create is one fsync'd transaction, far too slow to fill a
// store with 100,000 clients for a benchmark. It returns the plaintext
// keys in creation order. No audit entries are written.
func loadClients(tb testing.TB, s *BoltStore, n int) []string {
	tb.Helper()
	const loadBatch = 10_000
	type entry struct{ k, v []byte }
	var clients, hashes, statuses []entry
	keys := make([]string, n)
	start := s.now().Add(-time.Duration(n) * time.Millisecond)
	var last rawID
	for i := range n {
		at := storedTime(start.Add(time.Duration(i) * time.Millisecond))
		last = newRawID(at, last)
		id := clientIDPrefix + last.String()
		keys[i] = s.format.Generate()
		r := &clientRecord{ID: id, Name: fmt.Sprintf("client %d", i), Scopes: []string{"pos.read", "pos.write"},
			Status: StatusActive, CreatedAt: at, UpdatedAt: at, Key: newKeyRecord(s.format, keys[i], at)}
		b, err := encodeClient(r)
		if err != nil {
			tb.Fatal(err)
		}
		clients = append(clients, entry{[]byte(id), b})
		hashes = append(hashes, entry{r.Key.Hash, append([]byte{byte(SlotCurrent)}, id...)})
		statuses = append(statuses, entry{statusKey(StatusActive, id), nil})
	}
	for bucket, entries := range map[string][]entry{string(bucketClients): clients, string(bucketKeyHashes): hashes, string(bucketStatus): statuses} {
		slices.SortFunc(entries, func(a, b entry) int { return bytes.Compare(a.k, b.k) })
		for from := 0; from < len(entries); from += loadBatch {
			batch := entries[from:min(from+loadBatch, len(entries))]
			err := s.db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket([]byte(bucket))
				for _, e := range batch {
					if err := b.Put(e.k, e.v); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				tb.Fatal(err)
			}
		}
	}
	return keys
}

// entries counts the entries of a bucket.
func entries(tb testing.TB, s *BoltStore, bucket []byte) int {
	tb.Helper()
	var n int
	if err := s.db.View(func(tx *bolt.Tx) error { n = tx.Bucket(bucket).Stats().KeyN; return nil }); err != nil {
		tb.Fatal(err)
	}
	return n
}

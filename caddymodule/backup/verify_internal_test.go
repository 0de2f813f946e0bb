package backup

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// writeDB writes a real bbolt file of a few hundred pages.
func writeDB(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("clients"))
		if err != nil {
			return err
		}
		for i := range 2000 {
			if err := b.Put(fmt.Appendf(nil, "client-%05d", i), make([]byte, 100)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyRefusesDamagedFiles: a backup that would not restore into a
// working store is reported, never passed.
func TestVerifyRefusesDamagedFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	writeDB(t, good)
	if err := verify(good, time.Second); err != nil {
		t.Fatalf("a sound file: %v", err)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	garbled := append([]byte(nil), data...)
	for i := 4 * 4096; i < 6*4096; i++ {
		garbled[i] = 0xA5
	}
	damaged := map[string][]byte{
		"truncated":     data[:len(data)/2],
		"empty":         {},
		"not bbolt":     []byte("SQLite format 3\x00 and then some"),
		"garbled pages": garbled,
	}
	for name, content := range damaged {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := verify(path, time.Second); err == nil {
			t.Errorf("%s file passed", name)
		}
	}
}

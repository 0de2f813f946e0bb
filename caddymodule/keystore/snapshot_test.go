package keystore_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
	"github.com/gatehouse-gw/gatehouse/caddymodule/storeregistry"
)

// TestSnapshotWhileWriting copies the store while clients are created
// and checks that the copy opens as a key store holding every client
// created before the copy began.
func TestSnapshotWhileWriting(t *testing.T) {
	dir := t.TempDir()
	s := openBolt(t, filepath.Join(dir, "keys.db"), keystore.Options{})
	var before []string
	for range 20 {
		c, _, _, err := s.Create(t.Context(), keystore.NewClient{Name: "before"})
		if err != nil {
			t.Fatal(err)
		}
		before = append(before, c.ID)
	}

	stop, writing := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	wg.Go(func() {
		defer once.Do(func() { close(writing) })
		for i := 0; i < 200; i++ { // bounded; stops earlier when the copy is done
			select {
			case <-stop:
				return
			default:
			}
			if _, _, _, err := s.Create(t.Context(), keystore.NewClient{Name: "during"}); err != nil {
				t.Error(err)
				return
			}
			once.Do(func() { close(writing) })
		}
	})
	<-writing
	size, err := s.SnapshotSize()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := s.Snapshot(&buf)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) || n < size {
		t.Fatalf("Snapshot wrote %d bytes, reported %d; size before was %d", buf.Len(), n, size)
	}

	copyPath := filepath.Join(dir, "copy.db")
	if err := os.WriteFile(copyPath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	restored := openBolt(t, copyPath, keystore.Options{})
	for _, id := range before {
		if _, err := restored.Get(t.Context(), id); err != nil {
			t.Errorf("client %s created before the snapshot: %v", id, err)
		}
	}
}

// TestPoolRegistersOpenStores checks that the pool lists a store for
// hot backups exactly while it is open.
func TestPoolRegistersOpenStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	if _, err := keystore.Acquire(path, keystore.PoolOptions{FlushInterval: time.Hour}); err != nil {
		t.Fatal(err)
	}
	s, ok := storeregistry.Find(path)
	if !ok || s.Kind != storeregistry.KindKeys {
		t.Fatalf("open store not registered: %+v, %v", s, ok)
	}
	var buf bytes.Buffer
	if _, err := s.Snapshotter.Snapshot(&buf); err != nil {
		t.Fatalf("snapshot through the registry: %v", err)
	}
	release(t, path)
	if _, ok := storeregistry.Find(path); ok {
		t.Fatal("closed store still registered")
	}
}

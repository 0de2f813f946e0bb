package store_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// TestBoltSnapshotWhileWriting copies the store while tokens are revoked
// (one write each) and checks that the copy opens as a store holding
// every revocation committed before the copy began.
func TestBoltSnapshotWhileWriting(t *testing.T) {
	dir := t.TempDir()
	st, err := store.OpenBolt(filepath.Join(dir, "authserver.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	expires := time.Now().Add(time.Hour)
	revoke := func(id string) error {
		return st.RevokeToken(t.Context(), store.TokenRef{ID: id, ExpiresAt: expires})
	}
	for i := range 20 {
		if err := revoke(fmt.Sprintf("before-%d", i)); err != nil {
			t.Fatal(err)
		}
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
			if err := revoke(fmt.Sprintf("during-%d", i)); err != nil {
				t.Error(err)
				return
			}
			once.Do(func() { close(writing) })
		}
	})
	<-writing
	size, err := st.SnapshotSize()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := st.Snapshot(&buf)
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
	restored, err := store.OpenBolt(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	for i := range 20 {
		id := fmt.Sprintf("before-%d", i)
		if revoked, err := restored.IsTokenRevoked(t.Context(), id); err != nil || !revoked {
			t.Errorf("revocation of %s, committed before the snapshot: %v, %v", id, revoked, err)
		}
	}
}

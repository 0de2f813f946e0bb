package storeregistry_test

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/gatehouse-gw/gatehouse/caddymodule/storeregistry"
)

// fixed is a Snapshotter of fixed content: the registry only passes it on.
type fixed []byte

func (f fixed) Snapshot(w io.Writer) (int64, error) {
	n, err := w.Write(f)
	return int64(n), err
}

func (f fixed) SnapshotSize() (int64, error) { return int64(len(f)), nil }

func TestListFindAndUnregister(t *testing.T) {
	unregKeys := storeregistry.Register(storeregistry.KindKeys, "/data/keys.db", fixed("keys"))
	unregAuth := storeregistry.Register(storeregistry.KindAuthserver, "/data/authserver.db", fixed("auth"))
	defer unregAuth()

	list := storeregistry.List()
	if len(list) != 2 || list[0].Kind != storeregistry.KindAuthserver || list[1].Kind != storeregistry.KindKeys {
		t.Fatalf("List = %+v, want authserver then keys", list)
	}
	s, ok := storeregistry.Find("/data/keys.db")
	if !ok || s.Kind != storeregistry.KindKeys {
		t.Fatalf("Find(/data/keys.db) = %+v, %v", s, ok)
	}
	var buf bytes.Buffer
	if _, err := s.Snapshotter.Snapshot(&buf); err != nil || buf.String() != "keys" {
		t.Fatalf("snapshot of the found store: %q, %v", buf.String(), err)
	}
	// Only the exact listed spelling matches.
	for _, other := range []string{"/data/../data/keys.db", "/data//keys.db", "data/keys.db", "/data/keys.db/", "", "/data"} {
		if _, ok := storeregistry.Find(other); ok {
			t.Errorf("Find(%q) matched", other)
		}
	}

	unregKeys()
	unregKeys() // a second call changes nothing
	if _, ok := storeregistry.Find("/data/keys.db"); ok {
		t.Fatal("unregistered store still found")
	}
	if list := storeregistry.List(); len(list) != 1 || list[0].Path != "/data/authserver.db" {
		t.Fatalf("after unregistering keys: %+v", list)
	}
}

// TestConcurrentUse registers, lists and unregisters from many
// goroutines, for the race detector.
func TestConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 100 {
				path := fmt.Sprintf("/data/%d-%d.db", i, j)
				unregister := storeregistry.Register(storeregistry.KindKeys, path, fixed(path))
				if _, ok := storeregistry.Find(path); !ok {
					t.Errorf("%s not found right after Register", path)
				}
				_ = storeregistry.List()
				unregister()
			}
		})
	}
	wg.Wait()
	if list := storeregistry.List(); len(list) != 0 {
		t.Fatalf("%d stores left registered", len(list))
	}
}

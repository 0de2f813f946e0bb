// Package storeregistry lists the store files open in this process, so
// that the backup admin API (package backup) can copy them while they
// are in use without importing the packages that own them. The key
// store's pool and the authserver's pool register each file they open
// and unregister it when they close it; data flows one way, from the
// stores to the registry.
package storeregistry

import (
	"cmp"
	"io"
	"slices"
	"sync"
)

// Kinds of stores, as listed by the backup admin API and used in the
// names of backup files.
const (
	// KindKeys is the gateway's API-key store (package keystore).
	KindKeys = "keys"
	// KindAuthserver is the authserver's store (package authserver/store).
	KindAuthserver = "authserver"
)

// Snapshotter is an open store that can copy itself while in use.
type Snapshotter interface {
	// Snapshot writes a consistent copy of the whole store file to w, as
	// of one read transaction, and returns the number of bytes written.
	// Writers are not blocked meanwhile, but a slow w holds the
	// transaction open, which can stall writers that need to grow the
	// file; callers should give it a fast local writer.
	Snapshot(w io.Writer) (int64, error)
	// SnapshotSize is the size a Snapshot taken now would have.
	SnapshotSize() (int64, error)
}

// Store is one registered store.
type Store struct {
	// Kind is KindKeys or KindAuthserver.
	Kind string
	// Path is the store file's absolute path.
	Path string
	// Snapshotter copies the open store.
	Snapshotter Snapshotter
}

var (
	mu     sync.Mutex
	stores = map[*Store]struct{}{}
)

// Register lists an open store file under kind and path, which must be
// absolute and clean (the pools' keys are), until the returned function
// is called; call it before closing the store.
func Register(kind, path string, s Snapshotter) (unregister func()) {
	entry := &Store{Kind: kind, Path: path, Snapshotter: s}
	mu.Lock()
	stores[entry] = struct{}{}
	mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			mu.Lock()
			delete(stores, entry)
			mu.Unlock()
		})
	}
}

// List returns the registered stores, ordered by kind, then path.
func List() []Store {
	mu.Lock()
	list := make([]Store, 0, len(stores))
	for s := range stores {
		list = append(list, *s)
	}
	mu.Unlock()
	slices.SortFunc(list, func(a, b Store) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Path, b.Path))
	})
	return list
}

// Find returns the registered store whose path is exactly path. Paths
// are compared as strings, without cleaning or resolving links, so only
// a path that List shows ever matches.
func Find(path string) (Store, bool) {
	mu.Lock()
	defer mu.Unlock()
	for s := range stores {
		if s.Path == path {
			return *s, true
		}
	}
	return Store{}, false
}

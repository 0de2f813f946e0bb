package caddyhost

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-gw/gatehouse/authserver"
	"github.com/gatehouse-gw/gatehouse/authserver/store"
	"github.com/gatehouse-gw/gatehouse/caddymodule/storeregistry"
)

// stores holds the authserver stores open in this process, by absolute
// path. `caddy reload` provisions the new config before it cleans up the
// old one; both then hold the same open file, where a second bbolt open
// would wait for this process's own lock.
var stores = caddy.NewUsagePool()

// pooledStore is the pool's value: the open store, listed in the store
// registry for hot backups while it is open, and the failed-login counts
// of the servers over it, which therefore survive a reload too.
type pooledStore struct {
	*store.Bolt
	unregister   func()
	failedLogins *authserver.FailedLogins
}

// Destruct closes the file when its last user releases it.
func (p pooledStore) Destruct() error {
	p.unregister()
	return p.Bolt.Close()
}

// acquireStore returns the shared store for path and the pool key to release.
func acquireStore(path string) (pooledStore, string, error) {
	key, err := filepath.Abs(path)
	if err != nil {
		return pooledStore{}, "", fmt.Errorf("authserver store %s: %w", path, err)
	}
	v, _, err := stores.LoadOrNew(key, func() (caddy.Destructor, error) {
		if err := os.MkdirAll(filepath.Dir(key), 0o700); err != nil {
			return nil, fmt.Errorf("creating the directory of %s: %w", key, err)
		}
		st, err := store.OpenBolt(key)
		if err != nil {
			return nil, err
		}
		return pooledStore{st, storeregistry.Register(storeregistry.KindAuthserver, key, st), authserver.NewFailedLogins()}, nil
	})
	if err != nil {
		return pooledStore{}, "", err
	}
	return v.(pooledStore), key, nil
}

// releaseStore gives back one acquireStore.
func releaseStore(key string) error {
	_, err := stores.Delete(key)
	return err
}

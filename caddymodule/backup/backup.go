// Package backup copies Gatehouse's store files while Gatehouse runs,
// and puts them back while it is stopped.
//
// A running Caddy holds each bbolt file locked, and copying a live file
// with cp can mix pages of two commits, so the copy is made inside the
// process: the admin API module admin.api.gatehouse_backup (adminapi.go)
// serves, on Caddy's admin endpoint, the stores listed in package
// storeregistry and a consistent snapshot of each:
//
//	GET /gatehouse/stores               [{"kind": "keys", "path": "/abs/keys.db", "size": 32768}, ...]
//	GET /gatehouse/backup?path=/abs/... the snapshot (application/octet-stream)
//
// `caddy gatehouse backup` (command.go, download.go) downloads every
// snapshot into a directory and checks each one; `caddy gatehouse
// restore` (restore.go) puts such a directory back into a data directory
// while Gatehouse is stopped.
package backup

import "path/filepath"

// The admin API's routes.
const (
	// StoresPath lists the open stores.
	StoresPath = "/gatehouse/stores"
	// BackupPath serves the snapshot of the store named by ?path=.
	BackupPath = "/gatehouse/backup"
)

// StoreInfo is one entry of the StoresPath listing.
type StoreInfo struct {
	// Kind is "keys" (the API-key store) or "authserver".
	Kind string `json:"kind"`
	// Path is the store file's absolute path, as BackupPath takes it.
	Path string `json:"path"`
	// Size is the size in bytes of a snapshot taken at listing time.
	Size int64 `json:"size"`
}

// FileName is the name of a store's backup file: kind, a dash, and the
// store file's name, e.g. "keys-keys.db". Restore strips the kind to
// find the file's name in the data directory.
func FileName(kind, path string) string {
	return kind + "-" + filepath.Base(path)
}

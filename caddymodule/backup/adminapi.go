package backup

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/gatehouse-gw/gatehouse/caddymodule/storeregistry"
)

func init() {
	caddy.RegisterModule(AdminAPI{})
}

// AdminAPI serves hot backups of the open stores on Caddy's admin
// endpoint. Caddy loads every admin.api module compiled in, so it needs
// no configuration; it answers wherever the admin endpoint listens
// (localhost:2019 by default) and not at all with `admin off`.
//
// Only files listed in the store registry are ever served, matched by
// their exact path: any other path, including one that resolves to a
// store through "..", a link or a relative spelling, is 404.
type AdminAPI struct {
	logger *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (AdminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.gatehouse_backup",
		New: func() caddy.Module { return new(AdminAPI) },
	}
}

// Provision sets up the module.
func (a *AdminAPI) Provision(ctx caddy.Context) error {
	a.logger = ctx.Logger(a)
	return nil
}

// Routes returns the admin routes.
func (a *AdminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{
		{Pattern: StoresPath, Handler: caddy.AdminHandlerFunc(a.handleStores)},
		{Pattern: BackupPath, Handler: caddy.AdminHandlerFunc(a.handleBackup)},
	}
}

// handleStores lists the open stores.
func (a *AdminAPI) handleStores(w http.ResponseWriter, r *http.Request) error {
	if err := requireGet(r); err != nil {
		return err
	}
	list := []StoreInfo{}
	for _, s := range storeregistry.List() {
		size, err := s.Snapshotter.SnapshotSize()
		if err != nil {
			return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: err}
		}
		list = append(list, StoreInfo{Kind: s.Kind, Path: s.Path, Size: size})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(list)
}

// handleBackup streams the snapshot of the store named by ?path=.
func (a *AdminAPI) handleBackup(w http.ResponseWriter, r *http.Request) error {
	if err := requireGet(r); err != nil {
		return err
	}
	path := r.URL.Query().Get("path")
	s, ok := storeregistry.Find(path)
	if !ok {
		return caddy.APIError{
			HTTPStatus: http.StatusNotFound,
			Err:        fmt.Errorf("no open store at %q; GET %s lists them", path, StoresPath),
		}
	}
	staged, size, err := stage(s)
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: err}
	}
	defer staged.Close()

	name := FileName(s.Kind, s.Path)
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	sent, err := io.Copy(w, staged)
	if err != nil {
		// The status is sent; the client sees a short body.
		a.logger.Error("sending store backup failed",
			zap.String("kind", s.Kind), zap.String("path", s.Path), zap.Int64("sent", sent), zap.Error(err))
		return nil
	}
	a.logger.Info("store backup sent",
		zap.String("kind", s.Kind), zap.String("path", s.Path), zap.Int64("size", size), zap.String("remote", r.RemoteAddr))
	return nil
}

// stage copies a snapshot of s into an unnamed file beside the store and
// returns it positioned at its start. The read transaction then lasts as
// long as a local disk copy, not as long as a slow client takes to
// download: an open read transaction keeps bbolt from growing the file,
// which would stall writers. The file sits in the store's directory,
// which already holds the same secrets, and is unlinked at once, so
// nothing is left behind even if the process dies.
func stage(s storeregistry.Store) (*stagedFile, int64, error) {
	f, err := os.CreateTemp(filepath.Dir(s.Path), "."+filepath.Base(s.Path)+".backup-*")
	if err != nil {
		return nil, 0, fmt.Errorf("staging a backup of %s: %w", s.Path, err)
	}
	// Where an open file cannot be unlinked (Windows), remove it on Close.
	staged := &stagedFile{File: f, removeOnClose: os.Remove(f.Name()) != nil}
	n, err := s.Snapshotter.Snapshot(staged)
	if err == nil {
		_, err = staged.Seek(0, io.SeekStart)
	}
	if err != nil {
		return nil, 0, errors.Join(fmt.Errorf("staging a backup of %s: %w", s.Path, err), staged.Close())
	}
	return staged, n, nil
}

// stagedFile is a staging file that may still have a name to remove.
type stagedFile struct {
	*os.File
	removeOnClose bool
}

// Close closes the file and removes it if it still has a name.
func (f *stagedFile) Close() error {
	err := f.File.Close()
	if f.removeOnClose {
		err = errors.Join(err, os.Remove(f.File.Name()))
	}
	return err
}

// requireGet refuses every method but GET.
func requireGet(r *http.Request) error {
	if r.Method != http.MethodGet {
		return caddy.APIError{
			HTTPStatus: http.StatusMethodNotAllowed,
			Err:        fmt.Errorf("method not allowed: %s", r.Method),
		}
	}
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner = (*AdminAPI)(nil)
	_ caddy.AdminRouter = (*AdminAPI)(nil)
)

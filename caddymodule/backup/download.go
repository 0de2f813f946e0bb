package backup

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
)

// maxListBytes bounds the store listing the CLI reads.
const maxListBytes = 1 << 20

// verifyLockTimeout bounds verify's wait for a lock on a file that only
// this command has open; it never waits in practice.
const verifyLockTimeout = time.Second

// runBackup downloads the snapshot of every store open in the Caddy
// whose admin endpoint is adminAddr into dir, one verified file each,
// and reports each file on out. It tries every store and fails if any
// failed, or if there was none.
func runBackup(out io.Writer, adminAddr, dir string) error {
	stores, err := listStores(adminAddr)
	if err != nil {
		return err
	}
	if len(stores) == 0 {
		return fmt.Errorf("the Caddy at %s has no Gatehouse store open; nothing was backed up", adminAddr)
	}
	names := make(map[string]string, len(stores))
	for _, s := range stores {
		name := FileName(s.Kind, s.Path)
		if !plainFileName(s.Kind) || !plainFileName(name) {
			return fmt.Errorf("the store listing names kind %q and path %q, which give no usable file name", s.Kind, s.Path)
		}
		if other, dup := names[name]; dup {
			return fmt.Errorf("stores %s and %s would both be written to %s; give their files different names", other, s.Path, name)
		}
		names[name] = s.Path
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the backup directory: %w", err)
	}
	var failed []error
	for _, s := range stores {
		path, size, err := download(adminAddr, s, dir)
		if err != nil {
			failed = append(failed, fmt.Errorf("backing up %s store %s: %w", s.Kind, s.Path, err))
			continue
		}
		fmt.Fprintf(out, "wrote %s (%d bytes, %s store %s), bbolt check OK\n", path, size, s.Kind, s.Path)
	}
	return errors.Join(failed...)
}

// listStores asks the admin endpoint for the open stores.
func listStores(adminAddr string) ([]StoreInfo, error) {
	resp, err := caddycmd.AdminAPIRequest(adminAddr, http.MethodGet, StoresPath, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("listing the stores at %s (is Gatehouse running there?): %w", adminAddr, err)
	}
	defer resp.Body.Close()
	var stores []StoreInfo
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxListBytes)).Decode(&stores); err != nil {
		return nil, fmt.Errorf("reading the store listing from %s: %w", adminAddr, err)
	}
	return stores, nil
}

// download writes the snapshot of s to dir/FileName(s): into a
// temporary file, synced, checked with bbolt, then renamed into place,
// so the name only ever holds a complete, checked copy.
func download(adminAddr string, s StoreInfo, dir string) (string, int64, error) {
	resp, err := caddycmd.AdminAPIRequest(adminAddr, http.MethodGet, BackupPath+"?path="+url.QueryEscape(s.Path), nil, nil)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	name := FileName(s.Kind, s.Path)
	tmp, n, err := writeTemp(dir, name, func(w io.Writer) (int64, error) { return io.Copy(w, resp.Body) })
	if err != nil {
		return "", 0, fmt.Errorf("receiving the snapshot: %w", err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		err = fmt.Errorf("received %d bytes of a %d-byte snapshot", n, resp.ContentLength)
	}
	if err == nil {
		err = verify(tmp, verifyLockTimeout)
	}
	final := filepath.Join(dir, name)
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		return "", 0, errors.Join(err, os.Remove(tmp))
	}
	if err := syncDir(dir); err != nil {
		return "", 0, fmt.Errorf("syncing %s: %w", dir, err)
	}
	return final, n, nil
}

// plainFileName reports whether name can be used as a file name in the
// backup directory as it is: no separator, no "..", not hidden.
func plainFileName(name string) bool {
	return name != "" && name == filepath.Base(name) && !strings.HasPrefix(name, ".") && !strings.ContainsAny(name, `/\`)
}

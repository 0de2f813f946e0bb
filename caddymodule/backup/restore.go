package backup

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/gatehouse-gw/gatehouse/caddymodule/storeregistry"
)

// BeforeRestoreSuffix is appended to the name of a store file that
// restore replaced; the file is kept there until the operator removes it.
const BeforeRestoreSuffix = ".before-restore"

// defaultRestoreLockTimeout is how long restore waits for a store
// file's lock before concluding that a running process holds it.
const defaultRestoreLockTimeout = time.Second

// restoreKinds are the kinds whose backup files restore puts back.
var restoreKinds = []string{storeregistry.KindKeys, storeregistry.KindAuthserver}

// restorePlan is one backup file and the data file it replaces.
type restorePlan struct {
	backup string // the backup file, e.g. /backup/keys-keys.db
	target string // the data file, e.g. /var/lib/gatehouse/keys.db
	exists bool   // target exists and is kept as target+BeforeRestoreSuffix
}

// runRestore puts the backup files of fromDir (as written by runBackup)
// into dataDir, and reports each on out. It changes nothing unless every
// backup file passes the bbolt check, no target is held by a running
// process, and no earlier *.before-restore file would be overwritten.
// While it replaces the files it holds a shared lock on each existing
// one, so that no process can take it for writing meanwhile. It cannot
// stop a Gatehouse that starts during the restore from opening the old
// file before the rename: stopping Gatehouse first is the operator's
// part.
func runRestore(out io.Writer, fromDir, dataDir string, lockTimeout time.Duration) error {
	plans, err := planRestore(fromDir, dataDir)
	if err != nil {
		return err
	}
	for _, p := range plans {
		if err := verify(p.backup, lockTimeout); err != nil {
			return fmt.Errorf("nothing restored: %w", err)
		}
	}
	var locks []*bolt.DB
	defer func() {
		for _, db := range locks {
			_ = db.Close()
		}
	}()
	for _, p := range plans {
		if !p.exists {
			continue
		}
		if _, err := os.Lstat(p.target + BeforeRestoreSuffix); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("nothing restored: %s%s exists from an earlier restore; move it away first", p.target, BeforeRestoreSuffix)
		}
		db, err := bolt.Open(p.target, 0o600, &bolt.Options{ReadOnly: true, Timeout: lockTimeout})
		switch {
		case errors.Is(err, berrors.ErrTimeout):
			return fmt.Errorf("nothing restored: %s is in use by another process; stop Gatehouse first", p.target)
		case err != nil:
			// A damaged file (perhaps why it is being restored) does not
			// open; bbolt took and released its lock to find that out, so
			// no process holds it.
			fmt.Fprintf(out, "note: %s does not open (%v); replacing it anyway\n", p.target, err)
		default:
			locks = append(locks, db)
		}
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("nothing restored: creating %s: %w", dataDir, err)
	}
	for i, p := range plans {
		if err := restoreFile(p); err != nil {
			return fmt.Errorf("restoring %s from %s (%d of %d files restored before it): %w", p.target, p.backup, i, len(plans), err)
		}
		if p.exists {
			fmt.Fprintf(out, "restored %s from %s; the replaced file is %s%s\n", p.target, p.backup, p.target, BeforeRestoreSuffix)
		} else {
			fmt.Fprintf(out, "restored %s from %s\n", p.target, p.backup)
		}
	}
	return nil
}

// planRestore finds the backup files in fromDir: <kind>-<name> for the
// kinds restore knows, each put back as dataDir/<name>.
func planRestore(fromDir, dataDir string) ([]restorePlan, error) {
	entries, err := os.ReadDir(fromDir)
	if err != nil {
		return nil, fmt.Errorf("reading the backup directory: %w", err)
	}
	var plans []restorePlan
	targets := map[string]string{}
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue // temporary files of an interrupted backup are hidden
		}
		name, ok := storeFileName(e.Name())
		if !ok {
			continue
		}
		p := restorePlan{backup: filepath.Join(fromDir, e.Name()), target: filepath.Join(dataDir, name)}
		if other, dup := targets[p.target]; dup {
			return nil, fmt.Errorf("%s and %s would both be restored to %s", other, p.backup, p.target)
		}
		targets[p.target] = p.backup
		switch info, err := os.Lstat(p.target); {
		case err == nil && !info.Mode().IsRegular():
			return nil, fmt.Errorf("%s is not a regular file", p.target)
		case err == nil:
			p.exists = true
		case !errors.Is(err, fs.ErrNotExist):
			return nil, err
		}
		plans = append(plans, p)
	}
	if len(plans) == 0 {
		return nil, fmt.Errorf("no backup files in %s (expected %s-<file> or %s-<file>, as `caddy gatehouse backup` writes)",
			fromDir, storeregistry.KindKeys, storeregistry.KindAuthserver)
	}
	return plans, nil
}

// storeFileName is the data file name of a backup file name, and whether
// it is one.
func storeFileName(backupName string) (string, bool) {
	for _, kind := range restoreKinds {
		if name, ok := strings.CutPrefix(backupName, kind+"-"); ok && plainFileName(name) {
			return name, true
		}
	}
	return "", false
}

// restoreFile copies the backup beside the target, keeps the target as
// *.before-restore and renames the copy into its place.
func restoreFile(p restorePlan) error {
	src, err := os.Open(p.backup)
	if err != nil {
		return err
	}
	defer src.Close()
	dir := filepath.Dir(p.target)
	tmp, _, err := writeTemp(dir, filepath.Base(p.target), func(w io.Writer) (int64, error) { return io.Copy(w, src) })
	if err != nil {
		return err
	}
	if p.exists {
		if err := os.Rename(p.target, p.target+BeforeRestoreSuffix); err != nil {
			return errors.Join(err, os.Remove(tmp))
		}
	}
	if err := os.Rename(tmp, p.target); err != nil {
		err = errors.Join(err, os.Remove(tmp))
		if p.exists { // put the replaced file back
			err = errors.Join(err, os.Rename(p.target+BeforeRestoreSuffix, p.target))
		}
		return err
	}
	return syncDir(dir)
}

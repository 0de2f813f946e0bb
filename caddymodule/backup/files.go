package backup

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// writeTemp writes what fill writes into a new temporary file in dir
// (mode 0600, named after name and hidden), syncs and closes it, and
// returns its path and size. The caller renames it into place, or
// removes it; on error nothing is left.
func writeTemp(dir, name string, fill func(w io.Writer) (int64, error)) (string, int64, error) {
	f, err := os.CreateTemp(dir, "."+name+".partial-*")
	if err != nil {
		return "", 0, err
	}
	n, err := fill(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, errors.Join(err, os.Remove(f.Name()))
	}
	return f.Name(), n, nil
}

// syncDir makes the renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// maxCheckErrors bounds what verify reports of a damaged file.
const maxCheckErrors = 10

// verify opens path read-only as a bbolt database and checks its whole
// structure (every page reachable once, free list consistent), as
// `bbolt check` does. lockTimeout bounds the wait for a process holding
// the file.
func verify(path string, lockTimeout time.Duration) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: lockTimeout})
	if err != nil {
		return fmt.Errorf("%s is not a usable bbolt database: %w", path, err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		var problems []error
		for problem := range tx.Check() {
			// Drain the channel even past the limit: Check's goroutine
			// ends only when every problem is read.
			if len(problems) < maxCheckErrors {
				problems = append(problems, problem)
			}
		}
		return errors.Join(problems...)
	})
	if err != nil {
		err = fmt.Errorf("%s fails the bbolt consistency check: %w", path, err)
	}
	return errors.Join(err, db.Close())
}

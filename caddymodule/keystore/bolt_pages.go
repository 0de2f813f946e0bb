package keystore

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
)

// Page sizes of List and Audit.
const (
	// DefaultPageSize is the page size when the caller names none.
	DefaultPageSize = 50
	// MaxPageSize caps the page size; larger requests get this many.
	MaxPageSize = 500
)

func pageSize(limit int) int {
	switch {
	case limit <= 0:
		return DefaultPageSize
	case limit > MaxPageSize:
		return MaxPageSize
	default:
		return limit
	}
}

// encodeCursor makes the opaque cursor that resumes after id. Callers
// must not build cursors themselves: the encoding may change.
func encodeCursor(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(id))
}

// decodeCursor returns the id a cursor resumes after, checking that it is
// an id of the expected kind.
func decodeCursor(cursor, idPrefix string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	id := string(b)
	if err == nil && len(id) > len(idPrefix) && id[:len(idPrefix)] == idPrefix {
		if _, ok := parseRawID(id[len(idPrefix):]); ok {
			return id, nil
		}
	}
	return "", fmt.Errorf("%w: malformed page cursor", ErrInvalid)
}

// List returns a page of clients in creation order, optionally only those
// with one status.
func (s *BoltStore) List(ctx context.Context, opts ListOptions) (Page, error) {
	if opts.Status != "" {
		if err := validateStatus(opts.Status); err != nil {
			return Page{}, err
		}
	}
	var after string
	if opts.After != "" {
		var err error
		if after, err = decodeCursor(opts.After, clientIDPrefix); err != nil {
			return Page{}, err
		}
	}
	limit := pageSize(opts.Limit)
	var page Page
	err := s.view(ctx, func(t txn) error {
		// The index to walk: all clients, or those with the status. Its
		// keys are prefix + client id.
		walk, prefix := t.bucket(bucketClients).Cursor(), []byte(nil)
		if opts.Status != "" {
			walk, prefix = t.bucket(bucketStatus).Cursor(), statusKey(opts.Status, "")
		}
		clients := t.bucket(bucketClients)
		k, v := walk.Seek(append(bytes.Clone(prefix), after...))
		if after != "" && k != nil && string(k[len(prefix):]) == after {
			k, v = walk.Next()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = walk.Next() {
			if len(page.Clients) == limit {
				page.Next = encodeCursor(page.Clients[limit-1].ID)
				break
			}
			if opts.Status != "" {
				v = clients.Get(k[len(prefix):])
			}
			r, err := decodeClient(v)
			if err != nil {
				return err
			}
			page.Clients = append(page.Clients, r.client(t.now))
		}
		return nil
	})
	if err != nil {
		return Page{}, fmt.Errorf("listing clients: %w", err)
	}
	return page, nil
}

// Audit returns a page of the audit log, newest first, optionally only
// the entries about one client.
func (s *BoltStore) Audit(ctx context.Context, q AuditQuery) (AuditPage, error) {
	var after string
	if q.After != "" {
		var err error
		if after, err = decodeCursor(q.After, auditIDPrefix); err != nil {
			return AuditPage{}, err
		}
	}
	limit := pageSize(q.Limit)
	var page AuditPage
	err := s.view(ctx, func(t txn) error {
		entries := t.bucket(bucketAudit)
		walk, prefix := entries.Cursor(), []byte(nil)
		if q.Target != "" {
			walk, prefix = t.bucket(bucketAuditTarget).Cursor(), auditTargetKey(q.Target, "")
		}
		// Walk backwards from just before the cursor, or from the end of
		// the prefix range. Ids are ASCII, so prefix+0x7f is past them all.
		start := append(bytes.Clone(prefix), after...)
		if after == "" {
			start = append(start, 0x7f)
		}
		k, v := walk.Seek(start)
		if k == nil {
			k, v = walk.Last()
		} else {
			k, v = walk.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = walk.Prev() {
			if len(page.Entries) == limit {
				page.Next = encodeCursor(page.Entries[limit-1].ID)
				break
			}
			id := string(k[len(prefix):])
			if q.Target != "" {
				v = entries.Get([]byte(id))
			}
			e, err := decodeAudit(id, v)
			if err != nil {
				return err
			}
			page.Entries = append(page.Entries, e)
		}
		return nil
	})
	if err != nil {
		return AuditPage{}, fmt.Errorf("reading audit log: %w", err)
	}
	return page, nil
}

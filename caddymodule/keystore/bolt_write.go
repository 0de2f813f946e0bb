package keystore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Create stores a new active client with a fresh key. With
// c.Idempotency set, a retry within IdempotencyTTL returns the first
// client and key with replayed=true (see the idempotency notes in
// idempotency.go).
func (s *BoltStore) Create(ctx context.Context, c NewClient) (Client, string, bool, error) {
	if err := validateNewClient(c, s.now()); err != nil {
		return Client{}, "", false, err
	}
	var (
		client   Client
		key      string
		replayed bool
	)
	err := s.update(ctx, func(t txn) error {
		var idemIndex [32]byte
		if c.Idempotency != nil {
			idemIndex = idempotencyIndex(ActorFrom(ctx), c.Idempotency.Key)
			if b := t.bucket(bucketIdempotency).Get(idemIndex[:]); b != nil {
				rec, err := decodeIdempotency(b)
				if err != nil {
					return err
				}
				if t.now.Before(rec.ExpiresAt) {
					replayed = true
					client, key, err = t.replay(rec, c.Idempotency)
					return err
				}
			}
		}
		key = s.format.Generate()
		r := &clientRecord{
			ID:        newPrefixedID(clientIDPrefix, t.now, t.lastKey(bucketClients)),
			Name:      c.Name,
			Scopes:    slices.Clone(c.Scopes),
			Status:    StatusActive,
			Metadata:  maps.Clone(c.Metadata),
			CreatedAt: t.now,
			UpdatedAt: t.now,
			ExpiresAt: storedTime(c.ExpiresAt),
			Key:       newKeyRecord(s.format, key, t.now),
		}
		if err := t.putClient(r); err != nil {
			return err
		}
		if err := t.indexKey(r.Key.Hash, r.ID, SlotCurrent); err != nil {
			return err
		}
		if err := t.indexStatus(r.Status, r.ID); err != nil {
			return err
		}
		if c.Idempotency != nil {
			rec, err := newIdempotencyRecord(c.Idempotency, r.ID, key, t.now.Add(IdempotencyTTL))
			if err != nil {
				return err
			}
			b, err := encodeIdempotency(rec)
			if err != nil {
				return err
			}
			if err := t.bucket(bucketIdempotency).Put(idemIndex[:], b); err != nil {
				return err
			}
		}
		client = r.client(t.now)
		return t.audit(ctx, ActionCreate, r.ID, map[string]string{
			"name":       r.Name,
			"scopes":     strings.Join(r.Scopes, " "),
			"key_prefix": r.Key.Prefix,
		})
	})
	if err != nil {
		return Client{}, "", false, fmt.Errorf("creating client: %w", err)
	}
	return client, key, replayed, nil
}

// replay answers a retried create from its idempotency record.
func (t txn) replay(rec *idempotencyRecord, i *Idempotency) (Client, string, error) {
	if !rec.sameRequest(i.Fingerprint) {
		return Client{}, "", fmt.Errorf("%w: idempotency key was used for a different request", ErrConflict)
	}
	r, err := t.client(rec.ClientID)
	if errors.Is(err, ErrNotFound) {
		return Client{}, "", fmt.Errorf("%w: the client this request created has been deleted", ErrConflict)
	}
	if err != nil {
		return Client{}, "", err
	}
	key, err := rec.open(i.Key)
	if err != nil {
		return Client{}, "", err
	}
	if !r.matches(HashKey(key), SlotCurrent) {
		return Client{}, "", fmt.Errorf("%w: the key this request created has been rotated", ErrConflict)
	}
	return r.client(t.now), key, nil
}

// Update changes a client's name, scopes, metadata or expiry. A change
// that leaves everything as it was is not recorded.
func (s *BoltStore) Update(ctx context.Context, id string, u ClientUpdate) (Client, error) {
	if err := validateUpdate(u, s.now()); err != nil {
		return Client{}, err
	}
	var client Client
	err := s.update(ctx, func(t txn) error {
		r, err := t.mutableClient(id)
		if err != nil {
			return err
		}
		detail := map[string]string{}
		var fields []string
		if u.Name != nil && *u.Name != r.Name {
			r.Name = *u.Name
			fields = append(fields, "name")
			detail["name"] = r.Name
		}
		if u.Scopes != nil && !slices.Equal(*u.Scopes, r.Scopes) {
			r.Scopes = slices.Clone(*u.Scopes)
			fields = append(fields, "scopes")
			detail["scopes"] = strings.Join(r.Scopes, " ")
		}
		if u.Metadata != nil && !maps.Equal(*u.Metadata, r.Metadata) {
			r.Metadata = maps.Clone(*u.Metadata)
			fields = append(fields, "metadata")
		}
		if u.ExpiresAt != nil && !u.ExpiresAt.Equal(r.ExpiresAt) {
			r.ExpiresAt = storedTime(*u.ExpiresAt)
			fields = append(fields, "expires_at")
			detail["expires_at"] = formatOptionalTime(r.ExpiresAt)
		}
		if len(fields) > 0 {
			r.UpdatedAt = t.now
			detail["fields"] = strings.Join(fields, ",")
			if err := t.audit(ctx, ActionUpdate, id, detail); err != nil {
				return err
			}
		}
		client = r.client(t.now)
		return t.putClient(r)
	})
	if err != nil {
		return Client{}, fmt.Errorf("updating client: %w", err)
	}
	return client, nil
}

// Rotate issues a new current key. With grace > 0 the old key is accepted
// until now+grace; with grace 0 it is refused from this commit on. A key
// still retiring from an earlier rotation is dropped either way.
func (s *BoltStore) Rotate(ctx context.Context, id string, grace time.Duration) (Client, string, error) {
	if err := validateGrace(grace); err != nil {
		return Client{}, "", err
	}
	var (
		client Client
		key    string
	)
	err := s.update(ctx, func(t txn) error {
		r, err := t.mutableClient(id)
		if err != nil {
			return err
		}
		if err := t.dropRetiring(r); err != nil {
			return err
		}
		previous := r.Key.Prefix
		if grace > 0 {
			err = t.retire(r, t.now.Add(grace))
		} else {
			err = t.unindexKey(r.Key.Hash)
		}
		if err != nil {
			return err
		}
		key = s.format.Generate()
		r.Key = newKeyRecord(s.format, key, t.now)
		if err := t.indexKey(r.Key.Hash, r.ID, SlotCurrent); err != nil {
			return err
		}
		r.UpdatedAt = t.now
		if err := t.putClient(r); err != nil {
			return err
		}
		client = r.client(t.now)
		return t.audit(ctx, ActionRotate, id, map[string]string{
			"grace_period_seconds": strconv.FormatInt(int64(grace/time.Second), 10),
			"key_prefix":           r.Key.Prefix,
			"previous_key_prefix":  previous,
		})
	})
	if err != nil {
		return Client{}, "", fmt.Errorf("rotating key of client: %w", err)
	}
	return client, key, nil
}

// SetStatus enables or disables a client. Setting the status it already
// has succeeds and records nothing.
func (s *BoltStore) SetStatus(ctx context.Context, id string, status Status) (Client, error) {
	if err := validateStatus(status); err != nil {
		return Client{}, err
	}
	var client Client
	err := s.update(ctx, func(t txn) error {
		r, err := t.mutableClient(id)
		if err != nil {
			return err
		}
		if r.Status != status {
			if err := t.unindexStatus(r.Status, id); err != nil {
				return err
			}
			if err := t.indexStatus(status, id); err != nil {
				return err
			}
			r.Status = status
			r.UpdatedAt = t.now
			action := ActionEnable
			if status == StatusDisabled {
				action = ActionDisable
			}
			if err := t.audit(ctx, action, id, nil); err != nil {
				return err
			}
		}
		client = r.client(t.now)
		return t.putClient(r)
	})
	if err != nil {
		return Client{}, fmt.Errorf("setting status of client: %w", err)
	}
	return client, nil
}

// Delete removes a client and its keys. Its audit history stays.
func (s *BoltStore) Delete(ctx context.Context, id string) error {
	err := s.update(ctx, func(t txn) error {
		r, err := t.client(id)
		if err != nil {
			return err
		}
		if err := t.unindexKey(r.Key.Hash); err != nil {
			return err
		}
		if err := t.dropRetiring(r); err != nil {
			return err
		}
		if err := t.unindexStatus(r.Status, id); err != nil {
			return err
		}
		if err := t.bucket(bucketClients).Delete([]byte(id)); err != nil {
			return err
		}
		return t.audit(ctx, ActionDelete, id, map[string]string{"name": r.Name})
	})
	if err != nil {
		return fmt.Errorf("deleting client: %w", err)
	}
	return nil
}

// RecordUse stores last-used times in one write. Unknown ids (a client
// deleted since) and times not newer than the stored ones are ignored.
func (s *BoltStore) RecordUse(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	ids := make([]string, 0, len(used))
	for id := range used {
		ids = append(ids, id)
	}
	sort.Strings(ids) // bbolt writes sorted keys fastest
	err := s.update(ctx, func(t txn) error {
		for _, id := range ids {
			r, err := t.client(id)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			at := storedTime(used[id])
			if !at.After(r.LastUsedAt) {
				continue
			}
			r.LastUsedAt = at
			if err := t.putClient(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recording key use: %w", err)
	}
	return nil
}

func formatOptionalTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// family is the bbolt record of a refresh-token family: every token
// rotated from one code exchange, and the access tokens issued with them,
// so that revoking the family revokes them all.
type family struct {
	ID           string     `json:"id"`
	ClientID     string     `json:"client_id"`
	UserID       string     `json:"user_id"`
	RevokedAt    time.Time  `json:"revoked_at,omitempty"`
	ExpiresAt    time.Time  `json:"expires_at"`
	AccessTokens []TokenRef `json:"access_tokens,omitempty"`
}

func latest(times ...time.Time) time.Time {
	var out time.Time
	for _, t := range times {
		if t.After(out) {
			out = t
		}
	}
	return out
}

// authRequestSweepAt is when an authorization request may go: after its
// login window and its code, and, once redeemed, not before the access
// token issued from it expires, so that a replay can still revoke it.
func authRequestSweepAt(ar AuthRequest) time.Time {
	t := latest(ar.ExpiresAt, ar.CodeExpiresAt)
	if ar.Issued != nil {
		t = latest(t, ar.Issued.AccessToken.ExpiresAt)
	}
	return t
}

// CreateAuthRequest stores a new authorization request.
func (b *Bolt) CreateAuthRequest(_ context.Context, ar AuthRequest) error {
	if ar.ID == "" || ar.ClientID == "" || ar.CodeHash != "" {
		return fmt.Errorf("creating authorization request: %w", ErrInvalid)
	}
	err := b.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketAuthReqs).Get([]byte(ar.ID)) != nil {
			return ErrConflict
		}
		if err := setExpiry(tx, kindAuthReq, ar.ID, time.Time{}, authRequestSweepAt(ar)); err != nil {
			return err
		}
		return putJSON(tx, bucketAuthReqs, ar.ID, ar)
	})
	if err != nil {
		return fmt.Errorf("creating authorization request: %w", err)
	}
	return nil
}

// GetAuthRequest returns the authorization request with id.
func (b *Bolt) GetAuthRequest(_ context.Context, id string) (AuthRequest, error) {
	var ar AuthRequest
	err := b.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketAuthReqs, id, &ar) })
	if err != nil {
		return AuthRequest{}, fmt.Errorf("reading authorization request: %w", err)
	}
	return ar, nil
}

// UpdateAuthRequest applies change, keeping the code and expiry indexes in step.
func (b *Bolt) UpdateAuthRequest(_ context.Context, id string, change func(*AuthRequest) error) (AuthRequest, error) {
	var ar AuthRequest
	err := b.db.Update(func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketAuthReqs, id, &ar); err != nil {
			return err
		}
		old := ar
		if err := change(&ar); err != nil {
			return err
		}
		ar.ID = id
		if ar.CodeHash != old.CodeHash {
			codes := tx.Bucket(bucketCodes)
			if old.CodeHash != "" {
				if err := codes.Delete([]byte(old.CodeHash)); err != nil {
					return err
				}
			}
			if ar.CodeHash != "" {
				if codes.Get([]byte(ar.CodeHash)) != nil {
					return ErrConflict
				}
				if err := codes.Put([]byte(ar.CodeHash), []byte(id)); err != nil {
					return err
				}
			}
		}
		if err := setExpiry(tx, kindAuthReq, id, authRequestSweepAt(old), authRequestSweepAt(ar)); err != nil {
			return err
		}
		return putJSON(tx, bucketAuthReqs, id, ar)
	})
	if err != nil {
		return AuthRequest{}, fmt.Errorf("updating authorization request: %w", err)
	}
	return ar, nil
}

// GetAuthRequestByCode finds the request whose code hashes to codeHash.
func (b *Bolt) GetAuthRequestByCode(_ context.Context, codeHash string) (AuthRequest, error) {
	var ar AuthRequest
	err := b.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketCodes).Get([]byte(codeHash))
		if id == nil {
			return ErrNotFound
		}
		return getJSON(tx, bucketAuthReqs, string(id), &ar)
	})
	if err != nil {
		return AuthRequest{}, fmt.Errorf("finding authorization code: %w", err)
	}
	return ar, nil
}

// deleteAuthRequest removes a request and its code index entry; the
// caller has removed its expiry entry.
func deleteAuthRequest(tx *bolt.Tx, id string) error {
	var ar AuthRequest
	if err := getJSON(tx, bucketAuthReqs, id, &ar); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	if ar.CodeHash != "" {
		if err := tx.Bucket(bucketCodes).Delete([]byte(ar.CodeHash)); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketAuthReqs).Delete([]byte(id))
}

// RedeemCode marks a code used and records what was issued for it. A
// replay commits the revocation of the first redemption's tokens and then
// reports ErrReplayed.
func (b *Bolt) RedeemCode(_ context.Context, codeHash string, now time.Time, issued Issued, refresh *RefreshToken) error {
	if refresh != nil && (refresh.FamilyID == "" || refresh.FamilyID != issued.RefreshFamily) {
		return fmt.Errorf("redeeming code: refresh token outside the issued family: %w", ErrInvalid)
	}
	replayed := false
	err := b.db.Update(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketCodes).Get([]byte(codeHash))
		if id == nil {
			return ErrNotFound
		}
		var ar AuthRequest
		if err := getJSON(tx, bucketAuthReqs, string(id), &ar); err != nil {
			return err
		}
		if !ar.RedeemedAt.IsZero() {
			replayed = true
			if ar.Issued == nil {
				return nil
			}
			if err := revokeToken(tx, ar.Issued.AccessToken); err != nil {
				return err
			}
			if ar.Issued.RefreshFamily == "" {
				return nil
			}
			return revokeFamily(tx, ar.Issued.RefreshFamily, now)
		}
		if !now.Before(ar.CodeExpiresAt) {
			return ErrExpired
		}
		old := ar
		ar.RedeemedAt = now
		ar.Issued = &issued
		if err := setExpiry(tx, kindAuthReq, ar.ID, authRequestSweepAt(old), authRequestSweepAt(ar)); err != nil {
			return err
		}
		if err := putJSON(tx, bucketAuthReqs, ar.ID, ar); err != nil {
			return err
		}
		if refresh == nil {
			return nil
		}
		if tx.Bucket(bucketFamilies).Get([]byte(refresh.FamilyID)) != nil {
			return ErrConflict
		}
		f := family{ID: refresh.FamilyID, ClientID: refresh.ClientID, UserID: refresh.UserID}
		return addToFamily(tx, f, *refresh, issued.AccessToken, now)
	})
	if err != nil {
		return fmt.Errorf("redeeming code: %w", err)
	}
	if replayed {
		return fmt.Errorf("redeeming code: %w", ErrReplayed)
	}
	return nil
}

// addToFamily stores t as the family's newest token and records access,
// dropping access-token records that have expired.
func addToFamily(tx *bolt.Tx, f family, t RefreshToken, access TokenRef, now time.Time) error {
	if tx.Bucket(bucketRefresh).Get([]byte(t.Hash)) != nil {
		return ErrConflict
	}
	old := f.ExpiresAt
	live := f.AccessTokens[:0]
	for _, a := range f.AccessTokens {
		if a.ExpiresAt.After(now) {
			live = append(live, a)
		}
	}
	f.AccessTokens = append(live, access)
	f.ExpiresAt = latest(f.ExpiresAt, t.ExpiresAt, access.ExpiresAt)
	if err := setExpiry(tx, kindFamily, f.ID, old, f.ExpiresAt); err != nil {
		return err
	}
	if err := putJSON(tx, bucketFamilies, f.ID, f); err != nil {
		return err
	}
	if err := setExpiry(tx, kindRefresh, t.Hash, time.Time{}, t.ExpiresAt); err != nil {
		return err
	}
	return putJSON(tx, bucketRefresh, t.Hash, t)
}

// GetRefreshToken returns a refresh token with FamilyRevoked filled in.
func (b *Bolt) GetRefreshToken(_ context.Context, hash string) (RefreshToken, error) {
	var t RefreshToken
	err := b.db.View(func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketRefresh, hash, &t); err != nil {
			return err
		}
		var f family
		if err := getJSON(tx, bucketFamilies, t.FamilyID, &f); err != nil {
			return err
		}
		t.FamilyRevoked = !f.RevokedAt.IsZero()
		return nil
	})
	if err != nil {
		return RefreshToken{}, fmt.Errorf("reading refresh token: %w", err)
	}
	return t, nil
}

// RotateRefreshToken exchanges a refresh token for its successor, or
// revokes the family when the token was used before.
func (b *Bolt) RotateRefreshToken(_ context.Context, oldHash string, now time.Time, next RefreshToken, access TokenRef) error {
	reused := false
	err := b.db.Update(func(tx *bolt.Tx) error {
		var old RefreshToken
		if err := getJSON(tx, bucketRefresh, oldHash, &old); err != nil {
			return err
		}
		var f family
		if err := getJSON(tx, bucketFamilies, old.FamilyID, &f); err != nil {
			return err
		}
		if !f.RevokedAt.IsZero() {
			return ErrRevoked
		}
		if !old.RotatedAt.IsZero() {
			reused = true
			return revokeFamily(tx, f.ID, now)
		}
		if !now.Before(old.ExpiresAt) {
			return ErrExpired
		}
		old.RotatedAt = now
		if err := putJSON(tx, bucketRefresh, old.Hash, old); err != nil {
			return err
		}
		next.FamilyID = old.FamilyID
		return addToFamily(tx, f, next, access, now)
	})
	if err != nil {
		return fmt.Errorf("rotating refresh token: %w", err)
	}
	if reused {
		return fmt.Errorf("rotating refresh token: %w", ErrReused)
	}
	return nil
}

// RevokeFamily revokes a family and the access tokens issued with it.
func (b *Bolt) RevokeFamily(_ context.Context, familyID string, now time.Time) error {
	err := b.db.Update(func(tx *bolt.Tx) error { return revokeFamily(tx, familyID, now) })
	if err != nil {
		return fmt.Errorf("revoking refresh-token family: %w", err)
	}
	return nil
}

func revokeFamily(tx *bolt.Tx, id string, now time.Time) error {
	var f family
	if err := getJSON(tx, bucketFamilies, id, &f); err != nil {
		return err
	}
	return revokeFamilyRecord(tx, f, now)
}

func revokeFamilyRecord(tx *bolt.Tx, f family, now time.Time) error {
	if !f.RevokedAt.IsZero() {
		return nil
	}
	f.RevokedAt = now
	for _, a := range f.AccessTokens {
		if a.ExpiresAt.After(now) {
			if err := revokeToken(tx, a); err != nil {
				return err
			}
		}
	}
	return putJSON(tx, bucketFamilies, f.ID, f)
}

// revokeFamiliesOf revokes every family for which match is true.
func revokeFamiliesOf(tx *bolt.Tx, match func(family) bool) error {
	var doomed []family
	err := tx.Bucket(bucketFamilies).ForEach(func(_, v []byte) error {
		var f family
		if err := json.Unmarshal(v, &f); err != nil {
			return fmt.Errorf("decoding refresh-token family: %w", err)
		}
		if match(f) {
			doomed = append(doomed, f)
		}
		return nil
	})
	if err != nil {
		return err
	}
	now := time.Now()
	for _, f := range doomed {
		if err := revokeFamilyRecord(tx, f, now); err != nil {
			return err
		}
	}
	return nil
}

// RevokeToken records a JWT id as revoked until it expires.
func (b *Bolt) RevokeToken(_ context.Context, t TokenRef) error {
	if t.ID == "" {
		return fmt.Errorf("revoking token: empty id: %w", ErrInvalid)
	}
	err := b.db.Update(func(tx *bolt.Tx) error { return revokeToken(tx, t) })
	if err != nil {
		return fmt.Errorf("revoking token: %w", err)
	}
	return nil
}

func revokeToken(tx *bolt.Tx, t TokenRef) error {
	revoked := tx.Bucket(bucketRevoked)
	if revoked.Get([]byte(t.ID)) != nil {
		return nil
	}
	if err := setExpiry(tx, kindRevoked, t.ID, time.Time{}, t.ExpiresAt); err != nil {
		return err
	}
	exp := make([]byte, 8)
	binary.BigEndian.PutUint64(exp, uint64(t.ExpiresAt.UnixNano()))
	return revoked.Put([]byte(t.ID), exp)
}

// IsTokenRevoked reports whether a JWT id was revoked.
func (b *Bolt) IsTokenRevoked(_ context.Context, id string) (bool, error) {
	var revoked bool
	err := b.db.View(func(tx *bolt.Tx) error {
		revoked = tx.Bucket(bucketRevoked).Get([]byte(id)) != nil
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("reading revoked tokens: %w", err)
	}
	return revoked, nil
}

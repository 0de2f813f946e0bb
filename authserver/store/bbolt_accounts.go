package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// CreateClient stores a new client.
func (b *Bolt) CreateClient(_ context.Context, c Client) error {
	if c.ID == "" {
		return fmt.Errorf("creating client: empty id: %w", ErrInvalid)
	}
	err := b.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketClients).Get([]byte(c.ID)) != nil {
			return ErrConflict
		}
		return putJSON(tx, bucketClients, c.ID, c)
	})
	if err != nil {
		return fmt.Errorf("creating client %s: %w", c.ID, err)
	}
	return nil
}

// GetClient returns the client with id.
func (b *Bolt) GetClient(_ context.Context, id string) (Client, error) {
	var c Client
	err := b.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketClients, id, &c) })
	if err != nil {
		return Client{}, fmt.Errorf("reading client %s: %w", id, err)
	}
	return c, nil
}

// ListClients returns all clients ordered by id.
func (b *Bolt) ListClients(_ context.Context) ([]Client, error) {
	var out []Client
	err := b.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketClients).ForEach(func(k, v []byte) error {
			var c Client
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("decoding client %s: %w", k, err)
			}
			out = append(out, c)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("listing clients: %w", err)
	}
	return out, nil
}

// UpdateClient applies change to the client with id.
func (b *Bolt) UpdateClient(_ context.Context, id string, change func(*Client) error) (Client, error) {
	var c Client
	err := b.db.Update(func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketClients, id, &c); err != nil {
			return err
		}
		if err := change(&c); err != nil {
			return err
		}
		c.ID = id
		return putJSON(tx, bucketClients, id, c)
	})
	if err != nil {
		return Client{}, fmt.Errorf("updating client %s: %w", id, err)
	}
	return c, nil
}

// DeleteClient removes a client and its consents and revokes its families.
func (b *Bolt) DeleteClient(_ context.Context, id string) error {
	err := b.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketClients).Get([]byte(id)) == nil {
			return ErrNotFound
		}
		if err := tx.Bucket(bucketClients).Delete([]byte(id)); err != nil {
			return err
		}
		suffix := []byte("\x00" + id)
		if err := deleteKeys(tx.Bucket(bucketConsents), func(k []byte) bool { return bytes.HasSuffix(k, suffix) }); err != nil {
			return err
		}
		return revokeFamiliesOf(tx, func(f family) bool { return f.ClientID == id })
	})
	if err != nil {
		return fmt.Errorf("deleting client %s: %w", id, err)
	}
	return nil
}

func usernameKey(username string) []byte { return []byte(strings.ToLower(username)) }

// CreateUser stores a new user.
func (b *Bolt) CreateUser(_ context.Context, u User) error {
	if u.ID == "" || u.Username == "" {
		return fmt.Errorf("creating user: empty id or username: %w", ErrInvalid)
	}
	err := b.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketUsers).Get([]byte(u.ID)) != nil ||
			tx.Bucket(bucketUsernames).Get(usernameKey(u.Username)) != nil {
			return ErrConflict
		}
		if err := tx.Bucket(bucketUsernames).Put(usernameKey(u.Username), []byte(u.ID)); err != nil {
			return err
		}
		return putJSON(tx, bucketUsers, u.ID, u)
	})
	if err != nil {
		return fmt.Errorf("creating user %s: %w", u.Username, err)
	}
	return nil
}

// GetUser returns the user with id.
func (b *Bolt) GetUser(_ context.Context, id string) (User, error) {
	var u User
	err := b.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketUsers, id, &u) })
	if err != nil {
		return User{}, fmt.Errorf("reading user %s: %w", id, err)
	}
	return u, nil
}

// GetUserByUsername finds a user by username, case-insensitively.
func (b *Bolt) GetUserByUsername(_ context.Context, username string) (User, error) {
	var u User
	err := b.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketUsernames).Get(usernameKey(username))
		if id == nil {
			return ErrNotFound
		}
		return getJSON(tx, bucketUsers, string(id), &u)
	})
	if err != nil {
		return User{}, fmt.Errorf("finding user by username: %w", err)
	}
	return u, nil
}

// ListUsers returns all users ordered by id.
func (b *Bolt) ListUsers(_ context.Context) ([]User, error) {
	var out []User
	err := b.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
			var u User
			if err := json.Unmarshal(v, &u); err != nil {
				return fmt.Errorf("decoding user %s: %w", k, err)
			}
			out = append(out, u)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	return out, nil
}

// UpdateUser applies change to the user with id, keeping the username
// index in step.
func (b *Bolt) UpdateUser(_ context.Context, id string, change func(*User) error) (User, error) {
	var u User
	err := b.db.Update(func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketUsers, id, &u); err != nil {
			return err
		}
		oldName := u.Username
		if err := change(&u); err != nil {
			return err
		}
		u.ID = id
		if u.Username == "" {
			return ErrInvalid
		}
		if !bytes.Equal(usernameKey(oldName), usernameKey(u.Username)) {
			names := tx.Bucket(bucketUsernames)
			if names.Get(usernameKey(u.Username)) != nil {
				return ErrConflict
			}
			if err := names.Delete(usernameKey(oldName)); err != nil {
				return err
			}
			if err := names.Put(usernameKey(u.Username), []byte(id)); err != nil {
				return err
			}
		}
		return putJSON(tx, bucketUsers, id, u)
	})
	if err != nil {
		return User{}, fmt.Errorf("updating user %s: %w", id, err)
	}
	return u, nil
}

// DeleteUser removes a user, their consents and sessions, and revokes
// their refresh-token families.
func (b *Bolt) DeleteUser(_ context.Context, id string) error {
	err := b.db.Update(func(tx *bolt.Tx) error {
		var u User
		if err := getJSON(tx, bucketUsers, id, &u); err != nil {
			return err
		}
		if err := tx.Bucket(bucketUsers).Delete([]byte(id)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketUsernames).Delete(usernameKey(u.Username)); err != nil {
			return err
		}
		prefix := []byte(id + "\x00")
		if err := deleteKeys(tx.Bucket(bucketConsents), func(k []byte) bool { return bytes.HasPrefix(k, prefix) }); err != nil {
			return err
		}
		var sessions []Session
		err := tx.Bucket(bucketSessions).ForEach(func(k, v []byte) error {
			var s Session
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("decoding session: %w", err)
			}
			if s.UserID == id {
				sessions = append(sessions, s)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, s := range sessions {
			if err := deleteSession(tx, s); err != nil {
				return err
			}
		}
		return revokeFamiliesOf(tx, func(f family) bool { return f.UserID == id })
	})
	if err != nil {
		return fmt.Errorf("deleting user %s: %w", id, err)
	}
	return nil
}

// deleteKeys removes the keys of bucket for which match is true.
func deleteKeys(bucket *bolt.Bucket, match func(k []byte) bool) error {
	var doomed [][]byte
	err := bucket.ForEach(func(k, _ []byte) error {
		if match(k) {
			doomed = append(doomed, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range doomed {
		if err := bucket.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func consentKey(userID, clientID string) string { return userID + "\x00" + clientID }

// GetConsent returns what userID granted clientID.
func (b *Bolt) GetConsent(_ context.Context, userID, clientID string) (Consent, error) {
	var c Consent
	err := b.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketConsents, consentKey(userID, clientID), &c) })
	if err != nil {
		return Consent{}, fmt.Errorf("reading consent: %w", err)
	}
	return c, nil
}

// PutConsent stores a consent.
func (b *Bolt) PutConsent(_ context.Context, c Consent) error {
	if c.UserID == "" || c.ClientID == "" {
		return fmt.Errorf("storing consent: %w", ErrInvalid)
	}
	err := b.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketUsers).Get([]byte(c.UserID)) == nil {
			return ErrNotFound
		}
		return putJSON(tx, bucketConsents, consentKey(c.UserID, c.ClientID), c)
	})
	if err != nil {
		return fmt.Errorf("storing consent: %w", err)
	}
	return nil
}

// CreateSession stores a browser session.
func (b *Bolt) CreateSession(_ context.Context, s Session) error {
	if s.ID == "" || s.UserID == "" {
		return fmt.Errorf("creating session: %w", ErrInvalid)
	}
	err := b.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketSessions).Get([]byte(s.ID)) != nil {
			return ErrConflict
		}
		if err := setExpiry(tx, kindSession, s.ID, time.Time{}, s.ExpiresAt); err != nil {
			return err
		}
		return putJSON(tx, bucketSessions, s.ID, s)
	})
	if err != nil {
		return fmt.Errorf("creating session: %w", err)
	}
	return nil
}

// GetSession returns the session with id.
func (b *Bolt) GetSession(_ context.Context, id string) (Session, error) {
	var s Session
	err := b.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketSessions, id, &s) })
	if err != nil {
		return Session{}, fmt.Errorf("reading session: %w", err)
	}
	return s, nil
}

// DeleteSession removes a session.
func (b *Bolt) DeleteSession(_ context.Context, id string) error {
	err := b.db.Update(func(tx *bolt.Tx) error {
		var s Session
		if err := getJSON(tx, bucketSessions, id, &s); err != nil {
			if err == ErrNotFound {
				return nil
			}
			return err
		}
		return deleteSession(tx, s)
	})
	if err != nil {
		return fmt.Errorf("deleting session: %w", err)
	}
	return nil
}

func deleteSession(tx *bolt.Tx, s Session) error {
	if err := setExpiry(tx, kindSession, s.ID, s.ExpiresAt, time.Time{}); err != nil {
		return err
	}
	return tx.Bucket(bucketSessions).Delete([]byte(s.ID))
}

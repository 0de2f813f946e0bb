package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// Seed is a seed file: clients and users for demos, tests and a
// deployment's first clients.
//
// Each entry is applied once: ApplySeed creates its client or user if
// missing and records the entry as applied in the store, and skips it on
// later runs. A client or user removed with a command therefore stays
// removed although the seed file, read at every start and reload, still
// lists it. An entry counts as new when any of its fields other than the
// secret or password changes (the store keeps a digest of the other
// fields, never of a password): to bring a removed client back, change its
// entry or add it with a command. Applying never changes a client or user
// that exists.
type Seed struct {
	Clients []ClientSpec `json:"clients,omitempty"`
	Users   []UserSpec   `json:"users,omitempty"`
}

// SeedReport says what ApplySeed did, entry by entry ("client billing",
// "user alice").
type SeedReport struct {
	// Created are the entries whose client or user was created now.
	Created []string
	// Existing are new entries whose client or user existed already (made
	// by a command, or by this seed before entries were recorded): left
	// unchanged, and recorded as applied.
	Existing []string
	// Skipped are entries applied before; what they created may have been
	// removed since, and stays removed.
	Skipped []string
}

// LoadSeed reads a seed file (JSON, unknown fields refused) and checks
// every entry.
func LoadSeed(path string) (Seed, error) {
	f, err := os.Open(path)
	if err != nil {
		return Seed{}, fmt.Errorf("reading seed file: %w", err)
	}
	defer f.Close()
	var s Seed
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Seed{}, fmt.Errorf("reading seed file %s: %w", path, err)
	}
	if err := s.Validate(); err != nil {
		return Seed{}, fmt.Errorf("seed file %s: %w", path, err)
	}
	return s, nil
}

// Validate checks every entry as creating it would, before anything is
// applied, so that a bad seed file changes nothing. A confidential client
// must carry its client_secret: a generated one would be printed nowhere,
// and the client could never authenticate.
func (s Seed) Validate() error {
	seen := make(map[string]bool)
	for _, spec := range s.Clients {
		if !spec.Public && spec.Secret == "" {
			return fmt.Errorf("client %s: a confidential client in a seed file needs its client_secret (at least 32 characters, e.g. openssl rand -base64 32); a generated one would be shown to no one", spec.ID)
		}
		if _, _, err := spec.Build(time.Time{}); err != nil {
			return err
		}
		if seen["client "+spec.ID] {
			return fmt.Errorf("client %s is listed twice", spec.ID)
		}
		seen["client "+spec.ID] = true
	}
	for _, spec := range s.Users {
		name := strings.ToLower(strings.TrimSpace(spec.Username))
		if name == "" || len(name) > maxUsernameLength {
			return fmt.Errorf("user %q: username must have 1-%d characters", spec.Username, maxUsernameLength)
		}
		if len(spec.Password) < MinPasswordLength || len(spec.Password) > maxPasswordLength {
			return fmt.Errorf("user %s: password must have %d-%d characters", spec.Username, MinPasswordLength, maxPasswordLength)
		}
		if seen["user "+name] {
			return fmt.Errorf("user %s is listed twice", spec.Username)
		}
		seen["user "+name] = true
	}
	return nil
}

// ApplySeed applies the seed's entries that were not applied before (see
// Seed) and reports what it did. Creating a client or user and recording
// its entry are two changes: after a crash between them the next run
// finds the client or user existing and records the entry then.
func ApplySeed(ctx context.Context, st store.Store, seed Seed, now time.Time) (SeedReport, error) {
	var report SeedReport
	if err := seed.Validate(); err != nil {
		return report, err
	}
	for _, spec := range seed.Clients {
		name := "client " + spec.ID
		err := applyEntry(ctx, st, &report, name, seedEntryKey("client", spec.ID, spec.withoutSecret()), now, func() error {
			_, _, err := CreateClient(ctx, st, spec, now)
			return err
		})
		if err != nil {
			return report, fmt.Errorf("seeding %s: %w", name, err)
		}
	}
	for _, spec := range seed.Users {
		name := "user " + strings.TrimSpace(spec.Username)
		err := applyEntry(ctx, st, &report, name, seedEntryKey("user", strings.ToLower(strings.TrimSpace(spec.Username)), spec.withoutPassword()), now, func() error {
			_, err := CreateUser(ctx, st, spec, now)
			return err
		})
		if err != nil {
			return report, fmt.Errorf("seeding %s: %w", name, err)
		}
	}
	return report, nil
}

// applyEntry creates one entry's record unless the entry was applied
// before, and records it as applied.
func applyEntry(ctx context.Context, st store.Store, report *SeedReport, name, key string, now time.Time, create func() error) error {
	applied, err := st.SeedApplied(ctx, key)
	if err != nil {
		return err
	}
	if applied {
		report.Skipped = append(report.Skipped, name)
		return nil
	}
	switch err := create(); {
	case errors.Is(err, store.ErrConflict):
		report.Existing = append(report.Existing, name)
	case err != nil:
		return err
	default:
		report.Created = append(report.Created, name)
	}
	return st.MarkSeedApplied(ctx, key, now)
}

// seedEntryKey names a seed entry in the store: its kind, its id and a
// digest of its fields, which hold no secret.
func seedEntryKey(kind, id string, fields any) string {
	canonical, err := json.Marshal(fields)
	if err != nil {
		// Specs are plain strings, numbers and slices.
		panic(fmt.Sprintf("encoding a seed entry: %v", err))
	}
	return kind + "\x00" + id + "\x00" + store.Hash(string(canonical))[:32]
}

func (spec ClientSpec) withoutSecret() ClientSpec {
	spec.Secret = ""
	return spec
}

func (spec UserSpec) withoutPassword() UserSpec {
	spec.Password = ""
	return spec
}

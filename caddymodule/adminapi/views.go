package adminapi

import (
	"time"

	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

// clientView is a client as the API shows it: never a key or a hash, only
// the keys' display prefixes.
type clientView struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Scopes     []string          `json:"scopes"`
	Status     keystore.Status   `json:"status"`
	KeyPrefix  string            `json:"key_prefix"`
	Metadata   map[string]string `json:"metadata"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
	ExpiresAt  *time.Time        `json:"expires_at"`
	LastUsedAt *time.Time        `json:"last_used_at"`
	// PendingRotation describes the previous key while it is still
	// accepted after a rotation with a grace period.
	PendingRotation *rotationView `json:"pending_rotation"`
}

// rotationView describes a retiring key.
type rotationView struct {
	RetiringKeyPrefix string    `json:"retiring_key_prefix"`
	RetiringUntil     time.Time `json:"retiring_until"`
}

// issuedView is the answer to a create or a rotation: the client and,
// this once, its new plaintext key.
type issuedView struct {
	clientView
	APIKey string `json:"api_key"`
}

// clientPage is a page of the client list.
type clientPage struct {
	Clients    []clientView `json:"clients"`
	NextCursor *string      `json:"next_cursor"`
}

// auditView is one audit log entry.
type auditView struct {
	ID     string            `json:"id"`
	Time   time.Time         `json:"time"`
	Actor  actorView         `json:"actor"`
	Action string            `json:"action"`
	Target string            `json:"target"`
	Detail map[string]string `json:"detail"`
}

// actorView is who made a change.
type actorView struct {
	Subject    string `json:"subject"`
	ClientID   string `json:"client_id"`
	RemoteAddr string `json:"remote_addr"`
}

// auditPage is a page of the audit log.
type auditPage struct {
	Entries    []auditView `json:"entries"`
	NextCursor *string     `json:"next_cursor"`
}

// viewClient converts a stored client. A retiring key whose grace period
// has ended at now is no longer accepted and is not shown as pending.
func viewClient(c keystore.Client, now time.Time) clientView {
	v := clientView{
		ID:         c.ID,
		Name:       c.Name,
		Scopes:     c.Scopes,
		Status:     c.Status,
		KeyPrefix:  c.Key.Prefix,
		Metadata:   c.Metadata,
		CreatedAt:  c.CreatedAt.UTC(),
		UpdatedAt:  c.UpdatedAt.UTC(),
		ExpiresAt:  optionalTime(c.ExpiresAt),
		LastUsedAt: optionalTime(c.LastUsedAt),
	}
	if v.Scopes == nil {
		v.Scopes = []string{}
	}
	if v.Metadata == nil {
		v.Metadata = map[string]string{}
	}
	if r := c.Retiring; r != nil && now.Before(r.ExpiresAt) {
		v.PendingRotation = &rotationView{RetiringKeyPrefix: r.Prefix, RetiringUntil: r.ExpiresAt.UTC()}
	}
	return v
}

func viewAudit(e keystore.AuditEntry) auditView {
	v := auditView{
		ID:     e.ID,
		Time:   e.Time.UTC(),
		Actor:  actorView(e.Actor),
		Action: e.Action,
		Target: e.Target,
		Detail: e.Detail,
	}
	if v.Detail == nil {
		v.Detail = map[string]string{}
	}
	return v
}

// optionalTime maps the store's "zero means none" to JSON null.
func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// optionalCursor maps the store's "empty means last page" to JSON null.
func optionalCursor(next string) *string {
	if next == "" {
		return nil
	}
	return &next
}

package keystore

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"
)

// Audit actions, one per kind of change.
const (
	ActionCreate  = "create"
	ActionUpdate  = "update"
	ActionRotate  = "rotate"
	ActionDisable = "disable"
	ActionEnable  = "enable"
	ActionDelete  = "delete"
)

// auditRecord is an AuditEntry as stored (JSON).
type auditRecord struct {
	Time   time.Time         `json:"time"`
	Actor  auditActor        `json:"actor"`
	Action string            `json:"action"`
	Target string            `json:"target"`
	Detail map[string]string `json:"detail,omitempty"`
}

type auditActor struct {
	Subject    string `json:"subject"`
	ClientID   string `json:"client_id,omitempty"`
	RemoteAddr string `json:"remote_addr,omitempty"`
}

// audit records a change made by the actor in ctx, in the transaction
// that makes the change: the entry exists exactly when the change does.
// detail must hold only non-secret facts (never a key or a hash).
func (t txn) audit(ctx context.Context, action, target string, detail map[string]string) error {
	a := ActorFrom(ctx)
	rec := auditRecord{
		Time:   t.now,
		Actor:  auditActor{Subject: a.Subject, ClientID: a.ClientID, RemoteAddr: a.RemoteAddr},
		Action: action,
		Target: target,
		Detail: detail,
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encoding audit entry: %w", err)
	}
	id := newPrefixedID(auditIDPrefix, t.now, t.lastKey(bucketAudit))
	if err := t.bucket(bucketAudit).Put([]byte(id), b); err != nil {
		return err
	}
	return t.bucket(bucketAuditTarget).Put(auditTargetKey(target, id), nil)
}

func auditTargetKey(target, id string) []byte {
	return append(append([]byte(target), 0), id...)
}

func decodeAudit(id string, b []byte) (AuditEntry, error) {
	var r auditRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return AuditEntry{}, fmt.Errorf("decoding audit entry %s: %w", id, err)
	}
	return AuditEntry{
		ID:     id,
		Time:   r.Time,
		Actor:  Actor{Subject: r.Actor.Subject, ClientID: r.Actor.ClientID, RemoteAddr: r.Actor.RemoteAddr},
		Action: r.Action,
		Target: r.Target,
		Detail: maps.Clone(r.Detail),
	}, nil
}

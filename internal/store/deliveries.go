package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-ci/ferry/internal/event"
)

// Querier is what both *sql.DB and *sql.Tx provide, so one method serves
// inside and outside a transaction.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// InsertDelivery records d unless a delivery with the same id or the same
// payload bytes exists; inserted tells which. Run it in the transaction that
// enqueues the delivery's job so both or neither are written.
func InsertDelivery(ctx context.Context, q Querier, d event.Delivery) (inserted bool, err error) {
	ids, err := InsertDeliveries(ctx, q, []event.Delivery{d})
	return ids[d.ID], err
}

// GetDelivery loads one delivery.
func (db *DB) GetDelivery(ctx context.Context, id string) (event.Delivery, error) {
	var (
		d       event.Delivery
		payload string
		status  string
	)
	err := db.sql.QueryRowContext(ctx, `
		SELECT id, event, action, received_at, payload, payload_sha256, status,
		       installation_id, repository_id, repository, number
		FROM deliveries WHERE id = $1`, id).Scan(
		&d.ID, &d.Event, &d.Action, &d.ReceivedAt, &payload, &d.Digest, &status,
		&d.InstallationID, &d.RepositoryID, &d.Repository, &d.Number)
	if errors.Is(err, sql.ErrNoRows) {
		return event.Delivery{}, fmt.Errorf("get delivery %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return event.Delivery{}, fmt.Errorf("get delivery %s: %w", id, err)
	}
	if d.Payload, err = decodePayload(payload, d.Digest); err != nil {
		return event.Delivery{}, fmt.Errorf("get delivery %s: %w", id, err)
	}
	d.Status, d.ReceivedAt = event.Status(status), d.ReceivedAt.UTC()
	return d, nil
}

// FinishDelivery records how a delivery's job ended. errText is kept for
// operators; it never reaches GitHub.
func (db *DB) FinishDelivery(ctx context.Context, id string, status event.Status, errText string, at time.Time) error {
	return FinishDeliveryTx(ctx, db.sql, id, status, errText, at)
}

// FinishDeliveryTx is FinishDelivery in q (a transaction the job also
// releases its serial lock in).
func FinishDeliveryTx(ctx context.Context, q Querier, id string, status event.Status, errText string, at time.Time) error {
	_, err := q.ExecContext(ctx,
		`UPDATE deliveries SET status = $1, error = $2, finished_at = $3 WHERE id = $4`,
		string(status), errText, at.UTC(), id)
	if err != nil {
		return fmt.Errorf("finish delivery %s: %w", id, err)
	}
	return nil
}

// DeliveryCounts returns how many deliveries are in each status.
func (db *DB) DeliveryCounts(ctx context.Context) (map[event.Status]int, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT status, COUNT(*) FROM deliveries GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	defer rows.Close()
	counts := map[event.Status]int{}
	for rows.Next() {
		var (
			s string
			n int
		)
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("count deliveries: %w", err)
		}
		counts[event.Status(s)] = n
	}
	return counts, rows.Err()
}

// HasDelivery tells whether a delivery id was recorded.
func (db *DB) HasDelivery(ctx context.Context, id string) (bool, error) {
	var n int
	if err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries WHERE id = $1`, id).Scan(&n); err != nil {
		return false, fmt.Errorf("look up delivery %s: %w", id, err)
	}
	return n > 0, nil
}

// retentionChunk bounds the rows one retention statement touches, so it
// never holds the table long.
const retentionChunk = 500

// BlankPayloads empties the payloads of deliveries handled (done) or
// ignored before cutoff; id and digest stay, so a redelivery or a replay
// is still a duplicate. Failed deliveries keep theirs for inspection.
// It returns how many payloads it blanked.
func (db *DB) BlankPayloads(ctx context.Context, cutoff time.Time) (int64, error) {
	var total int64
	for {
		res, err := db.sql.ExecContext(ctx, `
			UPDATE deliveries SET payload = '' WHERE id IN (
				SELECT id FROM deliveries
				WHERE received_at < $1 AND payload <> '' AND status IN ('done', 'ignored')
				LIMIT `+strconv.Itoa(retentionChunk)+`)`, cutoff.UTC())
		if err != nil {
			return total, fmt.Errorf("blank delivery payloads: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("blank delivery payloads: %w", err)
		}
		total += n
		if n < retentionChunk {
			return total, nil
		}
	}
}

// InsertDeliveries stores several deliveries in one statement (the edge's
// group commit) and reports which were new; a delivery whose id or
// payload is stored already — or comes earlier in ds — is not. ds must
// not exceed MaxInsertBatch.
func InsertDeliveries(ctx context.Context, q Querier, ds []event.Delivery) (map[string]bool, error) {
	inserted := map[string]bool{}
	if len(ds) == 0 {
		return inserted, nil
	}
	seenID, seenDigest := map[string]bool{}, map[string]bool{}
	var sb strings.Builder
	sb.WriteString(`INSERT INTO deliveries (id, event, action, received_at, payload, payload_sha256, status,
		installation_id, repository_id, repository, number) VALUES `)
	args := make([]any, 0, len(ds)*11)
	var scratch []byte // compression's, reused across the batch
	for _, d := range ds {
		if seenID[d.ID] || seenDigest[d.Digest] {
			continue // the later of two in one batch is the duplicate, as it would be one by one
		}
		seenID[d.ID], seenDigest[d.Digest] = true, true
		if len(args) > 0 {
			sb.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&sb, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10, n+11)
		var payload string
		payload, scratch = encodePayload(d.Payload, scratch)
		args = append(args, d.ID, d.Event, d.Action, d.ReceivedAt.UTC(), payload, d.Digest, string(d.Status),
			d.InstallationID, d.RepositoryID, d.Repository, d.Number)
	}
	sb.WriteString(" ON CONFLICT DO NOTHING RETURNING id")
	rows, err := q.QueryContext(ctx, sb.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("insert %d deliveries: %w", len(ds), err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("insert %d deliveries: %w", len(ds), err)
		}
		inserted[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insert %d deliveries: %w", len(ds), err)
	}
	return inserted, nil
}

// MaxInsertBatch bounds InsertDeliveries (11 parameters a row, well inside
// SQLite's and PostgreSQL's limits).
const MaxInsertBatch = 256

// Package postgres stores captionbot's durable state in PostgreSQL: user and
// chat settings (implementing bot.Preferences) and per-platform update
// journals, shared by several captionbot processes on several machines.
//
// The schema is created and migrated on Open, one version at a time, under
// a PostgreSQL advisory lock, so replicas starting together migrate once.
// Every query runs under QueryTimeout; a database that is down fails
// queries (and Err) quickly instead of hanging, and the pool reconnects on
// its own when it is back.
//
// Journal entries have an owner, the replica (one Store) that took them in.
// A Store renews its lease with a heartbeat; an entry whose owner has not
// been heard of for Lease is taken over by another replica (Reclaim), so an
// update claimed by a replica that died is still answered. Each update ID
// is one row with a unique key, so a redelivered or duplicated update is
// claimed once, whichever replica it reaches.
package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/captionbot/captionbot/bot"
)

// ErrBadRecord: a stored value that cannot be decoded (corrupt, or written by
// a newer version).
var ErrBadRecord = errors.New("bad stored record")

// ErrPollerRunning: another captionbot holds the long-polling lock for the
// platform on this database.
var ErrPollerRunning = errors.New("another captionbot is long polling with this database (long polling runs on one replica; use webhook mode for several)")

// ErrNewerSchema: the database was migrated by a newer captionbot.
var ErrNewerSchema = errors.New("database schema is newer than this captionbot")

// ErrLockLost: the connection holding the long-polling lock broke, so
// another process may be polling now; restart captionbot.
var ErrLockLost = errors.New("long-polling lock lost with its database connection; restart captionbot")

// Defaults for the Options fields.
const (
	DefaultQueryTimeout = 5 * time.Second
	DefaultLease        = 30 * time.Second
	DefaultRemember     = 48 * time.Hour
)

// Options tune Open.
type Options struct {
	// QueryTimeout bounds every query; zero means DefaultQueryTimeout.
	QueryTimeout time.Duration
	// Lease is how long a replica's journal entries stay its own after its
	// last heartbeat (sent every Lease/3); zero means DefaultLease.
	Lease time.Duration
	// Log receives heartbeat failures; nil means slog.Default().
	Log *slog.Logger
}

// Store is an open connection pool. It is safe for concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	timeout time.Duration
	lease   time.Duration
	log     *slog.Logger
	// replica names this Store in the replicas table and as the owner
	// of the journal entries it took in.
	replica string

	stop chan struct{}
	done chan struct{}

	mu   sync.Mutex
	lock *pgxpool.Conn // holds the long-polling advisory lock, if any
	err  error         // sticky: ErrLockLost
}

var _ bot.Preferences = (*Store)(nil)

// Open connects to the database named by dsn (a PostgreSQL URL or
// key=value string), migrates the schema and starts the heartbeat.
func Open(ctx context.Context, dsn string, o Options) (*Store, error) {
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = DefaultQueryTimeout
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password included.
		return nil, errors.New("postgres: the dsn cannot be parsed")
	}
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > o.QueryTimeout {
		cfg.ConnConfig.ConnectTimeout = o.QueryTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	s := &Store{pool: pool, timeout: o.QueryTimeout, lease: o.Lease, log: o.Log,
		replica: hex.EncodeToString(b[:]), stop: make(chan struct{}), done: make(chan struct{})}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := s.heartbeat(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	go s.beat()
	return s, nil
}

// Replica is this Store's name as journal owner (random per Open).
func (s *Store) Replica() string { return s.replica }

// ctx bounds one query by QueryTimeout.
func (s *Store) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// advisory lock keys (the two-int form): class "capt", then the object.
const (
	lockClass   = 0x63617074
	lockMigrate = 1
	// poll locks are lockPoll + a hash of the platform name.
)

// migrations are applied in order; schema_version holds how many ran.
var migrations = []string{
	// 1: settings and journals.
	`CREATE TABLE settings (
		platform text NOT NULL,
		scope text NOT NULL,
		id text NOT NULL,
		record jsonb NOT NULL,
		PRIMARY KEY (platform, scope, id)
	);
	CREATE TABLE journal (
		name text NOT NULL,
		id bigint NOT NULL,
		raw bytea,
		owner text NOT NULL,
		accepted_at timestamptz NOT NULL DEFAULT now(),
		done_at timestamptz,
		PRIMARY KEY (name, id)
	);
	CREATE INDEX journal_pending ON journal (name, owner) WHERE done_at IS NULL;
	CREATE INDEX journal_done ON journal (name, done_at) WHERE done_at IS NOT NULL;
	CREATE TABLE journal_offsets (
		name text PRIMARY KEY,
		next bigint NOT NULL
	);
	CREATE TABLE replicas (
		id text PRIMARY KEY,
		seen_at timestamptz NOT NULL
	);`,
}

// SchemaVersion is the schema version this captionbot migrates to.
var SchemaVersion = len(migrations)

// migrate brings the schema to SchemaVersion under an advisory lock, each
// step in its own transaction.
func (s *Store) migrate(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 4*s.timeout)
	defer cancel()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, $2)`, lockClass, lockMigrate); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer func() {
		// A broken connection drops the lock with it.
		uctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		defer cancel()
		_, _ = conn.Exec(uctx, `SELECT pg_advisory_unlock($1, $2)`, lockClass, lockMigrate)
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version int NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var v int
	err = conn.QueryRow(ctx, `SELECT version FROM schema_version`).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err = conn.Exec(ctx, `INSERT INTO schema_version VALUES (0)`); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("%w (version %d; this one knows %d)", ErrNewerSchema, v, len(migrations))
	}
	for ; v < len(migrations); v++ {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE schema_version SET version = $1`, v+1)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
	}
	return nil
}

// heartbeat renews this replica's lease on its journal entries.
func (s *Store) heartbeat(ctx context.Context) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO replicas (id, seen_at) VALUES ($1, now())
		ON CONFLICT (id) DO UPDATE SET seen_at = now()`, s.replica)
	// Replicas killed long ago: their entries count as orphaned with or
	// without the row.
	b.Queue(`DELETE FROM replicas WHERE seen_at < now() - interval '1 day'`)
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	return nil
}

// beat sends the heartbeat every Lease/3, and checks the long-polling
// lock's connection, until Close.
func (s *Store) beat() {
	defer close(s.done)
	t := time.NewTicker(s.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if err := s.heartbeat(context.Background()); err != nil {
			s.log.Error("store heartbeat failed; other replicas take over this one's updates after the lease", "err", err, "lease", s.lease)
		}
		s.checkLock()
	}
}

// checkLock pings the connection holding the long-polling lock; once it
// breaks the lock is gone and Err reports ErrLockLost.
func (s *Store) checkLock() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lock == nil || s.err != nil {
		return
	}
	ctx, cancel := s.ctx(context.Background())
	defer cancel()
	if err := s.lock.Ping(ctx); err != nil {
		s.err = fmt.Errorf("postgres: %w: %v", ErrLockLost, err)
		s.log.Error("long-polling lock lost", "err", err)
		s.lock.Release()
		s.lock = nil
	}
}

// Err reports whether the database answers (a ping within QueryTimeout),
// for a readiness check; once the long-polling lock is lost it stays
// ErrLockLost.
func (s *Store) Err() error {
	s.mu.Lock()
	err := s.err
	s.mu.Unlock()
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(context.Background())
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// LockPoller takes the long-polling lock for platform name, held until
// Close, so that a second poller on the same database refuses to start
// (ErrPollerRunning). Its journals then replay every pending entry at once
// (no lease to wait out: no other replica takes updates in).
func (s *Store) LockPoller(ctx context.Context, name string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: poll lock: %w", err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext($2))`, lockClass+1, name).Scan(&ok); err != nil {
		conn.Release()
		return fmt.Errorf("postgres: poll lock: %w", err)
	}
	if !ok {
		conn.Release()
		return fmt.Errorf("postgres: %s: %w", name, ErrPollerRunning)
	}
	s.mu.Lock()
	s.lock = conn
	s.mu.Unlock()
	return nil
}

// Close stops the heartbeat, gives up this replica's lease (its unfinished
// entries are taken over at once), releases the long-polling lock and
// closes the pool.
func (s *Store) Close() error {
	close(s.stop)
	<-s.done
	ctx, cancel := s.ctx(context.Background())
	defer cancel()
	_, _ = s.pool.Exec(ctx, `DELETE FROM replicas WHERE id = $1`, s.replica)
	s.mu.Lock()
	if s.lock != nil {
		// Destroy the connection rather than return it to the pool
		// holding the lock.
		_ = s.lock.Conn().Close(ctx)
		s.lock.Release()
		s.lock = nil
	}
	s.mu.Unlock()
	s.pool.Close()
	return nil
}

func decodeSettings(v []byte) (bot.Settings, error) {
	st, err := bot.UnmarshalSettings(v)
	if err != nil {
		return st, fmt.Errorf("%w: %w", ErrBadRecord, err)
	}
	return st, nil
}

// Get returns the settings stored under k, or the zero Settings.
func (s *Store) Get(ctx context.Context, k bot.PrefKey) (bot.Settings, error) {
	if err := k.Validate(); err != nil {
		return bot.Settings{}, err
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var v []byte
	err := s.pool.QueryRow(ctx, `SELECT record FROM settings WHERE platform = $1 AND scope = $2 AND id = $3`,
		k.Platform, string(k.Scope), k.ID).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return bot.Settings{}, nil
	}
	if err != nil {
		return bot.Settings{}, fmt.Errorf("get settings %s: %w", k, err)
	}
	st, err := decodeSettings(v)
	if err != nil {
		return bot.Settings{}, fmt.Errorf("get settings %s: %w", k, err)
	}
	return st, nil
}

// Set stores st under k. Zero settings delete the record.
func (s *Store) Set(ctx context.Context, k bot.PrefKey, st bot.Settings) error {
	if err := k.Validate(); err != nil {
		return err
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var err error
	if st == (bot.Settings{}) {
		_, err = s.pool.Exec(ctx, `DELETE FROM settings WHERE platform = $1 AND scope = $2 AND id = $3`,
			k.Platform, string(k.Scope), k.ID)
	} else {
		var v []byte
		if v, err = bot.MarshalSettings(st); err != nil {
			return err
		}
		_, err = s.pool.Exec(ctx, `INSERT INTO settings (platform, scope, id, record) VALUES ($1, $2, $3, $4)
			ON CONFLICT (platform, scope, id) DO UPDATE SET record = EXCLUDED.record`,
			k.Platform, string(k.Scope), k.ID, v)
	}
	if err != nil {
		return fmt.Errorf("set settings %s: %w", k, err)
	}
	return nil
}

// Each calls fn for every stored settings record, users first. The records
// are read first (under QueryTimeout), then fn runs.
func (s *Store) Each(ctx context.Context, fn func(bot.PrefKey, bot.Settings) error) error {
	type rec struct {
		k  bot.PrefKey
		st bot.Settings
	}
	var recs []rec
	qctx, cancel := s.ctx(ctx)
	defer cancel()
	rows, err := s.pool.Query(qctx, `SELECT platform, scope, id, record FROM settings
		ORDER BY scope = 'chat', platform COLLATE "C", id COLLATE "C"`)
	if err != nil {
		return fmt.Errorf("each settings: %w", err)
	}
	for rows.Next() {
		var platform, scope, id string
		var v []byte
		if err := rows.Scan(&platform, &scope, &id, &v); err != nil {
			rows.Close()
			return fmt.Errorf("each settings: %w", err)
		}
		k := bot.PrefKey{Platform: platform, Scope: bot.Scope(scope), ID: id}
		st, err := decodeSettings(v)
		if err != nil {
			rows.Close()
			return fmt.Errorf("%s: %w", k, err)
		}
		recs = append(recs, rec{k, st})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("each settings: %w", err)
	}
	for _, r := range recs {
		if err := fn(r.k, r.st); err != nil {
			return err
		}
	}
	return nil
}

// Journal keeps a platform's accepted updates until they are handled, the
// platform's next update offset, and the IDs of recently handled updates (so
// that a redelivered update is recognised, see Claim). Get one with
// Store.Journal.
type Journal struct {
	store *Store
	name  string
	// Remember is how long a handled update's ID is kept for Claim; zero
	// means DefaultRemember. Set it before use.
	Remember time.Duration
	// Now is the clock for Remember; nil means time.Now (tests replace
	// it). Leases use the database's clock.
	Now func() time.Time
}

// Journal returns the journal named name (e.g. "telegram").
func (s *Store) Journal(name string) (*Journal, error) {
	return &Journal{store: s, name: name}, nil
}

func (j *Journal) now() time.Time {
	if j.Now != nil {
		return j.Now()
	}
	return time.Now()
}

func (j *Journal) remember() time.Duration {
	if j.Remember <= 0 {
		return DefaultRemember
	}
	return j.Remember
}

// Accept records updates (ID → raw JSON) as accepted but not yet handled,
// and the offset to poll from next, in one transaction.
func (j *Journal) Accept(ctx context.Context, updates map[int64][]byte, nextOffset int64) error {
	s := j.store
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for id, raw := range updates {
			b.Queue(`INSERT INTO journal (name, id, raw, owner) VALUES ($1, $2, $3, $4)
				ON CONFLICT (name, id) DO UPDATE SET raw = EXCLUDED.raw, owner = EXCLUDED.owner
				WHERE journal.done_at IS NULL`, j.name, id, raw, s.replica)
		}
		if nextOffset > 0 {
			b.Queue(`INSERT INTO journal_offsets (name, next) VALUES ($1, $2)
				ON CONFLICT (name) DO UPDATE SET next = EXCLUDED.next`, j.name, nextOffset)
		}
		if b.Len() == 0 {
			return nil
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("journal %s accept: %w", j.name, err)
	}
	return nil
}

// Claim records one update as accepted by this replica, unless it was
// accepted before (by any replica): it is still pending, or was handled
// within Remember. fresh reports whether it is new; a redelivered or
// duplicated update is not, and must not be handled again. The claim is
// committed when Claim returns.
func (j *Journal) Claim(ctx context.Context, id int64, raw []byte) (fresh bool, err error) {
	s := j.store
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `INSERT INTO journal (name, id, raw, owner) VALUES ($1, $2, $3, $4)
		ON CONFLICT (name, id) DO NOTHING`, j.name, id, raw, s.replica)
	if err != nil {
		return false, fmt.Errorf("journal %s claim: %w", j.name, err)
	}
	return tag.RowsAffected() == 1, nil
}

// pruneBatch bounds the expired IDs one Done removes.
const pruneBatch = 64

// Done marks a handled update (remembered for Remember, its JSON dropped),
// and forgets a few handled IDs older than that.
func (j *Journal) Done(ctx context.Context, id int64) error {
	s := j.store
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	now := j.now()
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO journal (name, id, owner, done_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (name, id) DO UPDATE SET raw = NULL, done_at = EXCLUDED.done_at`, j.name, id, s.replica, now)
	b.Queue(`DELETE FROM journal WHERE name = $1 AND id IN (
		SELECT id FROM journal WHERE name = $1 AND done_at < $2 LIMIT $3)`, j.name, now.Add(-j.remember()), pruneBatch)
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("journal %s done: %w", j.name, err)
	}
	return nil
}

// Handled reports whether update id was handled within Remember.
func (j *Journal) Handled(ctx context.Context, id int64) (bool, error) {
	s := j.store
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM journal WHERE name = $1 AND id = $2 AND done_at >= $3)`,
		j.name, id, j.now().Add(-j.remember())).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("journal %s: %w", j.name, err)
	}
	return ok, nil
}

// Pending returns the updates accepted but not handled that are this
// replica's to handle, by ID: its own, and those of replicas whose lease
// ran out (taken over). With the long-polling lock held, every pending
// update is its own.
func (j *Journal) Pending(ctx context.Context) (map[int64][]byte, error) {
	s := j.store
	s.mu.Lock()
	exclusive := s.lock != nil
	s.mu.Unlock()
	return j.take(ctx, true, exclusive)
}

// Reclaim takes over the pending updates of replicas whose lease ran out
// (they died, or lost the database for longer than Lease) and returns them,
// by ID, to be handled here. It never returns this replica's own.
func (j *Journal) Reclaim(ctx context.Context) (map[int64][]byte, error) {
	return j.take(ctx, false, false)
}

// ReclaimInterval is how often Reclaim is worth calling: a third of the
// lease.
func (j *Journal) ReclaimInterval() time.Duration { return j.store.lease / 3 }

// take moves pending entries to this replica: those of expired owners,
// its own too when own is set, every one when all is set.
func (j *Journal) take(ctx context.Context, own, all bool) (map[int64][]byte, error) {
	s := j.store
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `WITH c AS (
			SELECT j.id FROM journal j
			WHERE j.name = $1 AND j.done_at IS NULL AND ($4 OR ($3 AND j.owner = $2) OR (j.owner <> $2 AND NOT EXISTS (
				SELECT 1 FROM replicas r WHERE r.id = j.owner AND r.seen_at > now() - make_interval(secs => $5::float8))))
			FOR UPDATE SKIP LOCKED)
		UPDATE journal SET owner = $2 FROM c WHERE journal.name = $1 AND journal.id = c.id
		RETURNING journal.id, journal.raw`,
		j.name, s.replica, own, all, s.lease.Seconds())
	if err != nil {
		return nil, fmt.Errorf("journal %s pending: %w", j.name, err)
	}
	out := map[int64][]byte{}
	for rows.Next() {
		var id int64
		var raw []byte
		if err := rows.Scan(&id, &raw); err != nil {
			rows.Close()
			return nil, fmt.Errorf("journal %s pending: %w", j.name, err)
		}
		out[id] = raw
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal %s pending: %w", j.name, err)
	}
	return out, nil
}

// Offset returns the stored next offset, 0 if none.
func (j *Journal) Offset(ctx context.Context) (int64, error) {
	s := j.store
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var off int64
	err := s.pool.QueryRow(ctx, `SELECT next FROM journal_offsets WHERE name = $1`, j.name).Scan(&off)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("journal %s offset: %w", j.name, err)
	}
	return off, nil
}

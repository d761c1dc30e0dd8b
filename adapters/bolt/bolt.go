// Package bolt stores captionbot's durable state in a bbolt file: user and
// chat settings (implementing bot.Preferences) and per-platform update
// journals, so that an update accepted from a chat platform survives a crash
// until its reply is sent.
//
// Values are JSON with a version field; one bucket per record kind. The file
// is opened with a lock timeout, so a second instance on the same file fails
// fast with ErrLocked instead of hanging, and checked (bbolt's Tx.Check), so
// a damaged file fails with ErrCorrupt instead of a panic later. Once the
// file at the path is deleted or replaced, writes fail with ErrGone rather
// than go into a file no one will open again.
package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/captionbot/captionbot/bot"
)

// ErrLocked: another process holds the database file.
var ErrLocked = errors.New("database is locked by another process (is another captionbot running?)")

// ErrBadRecord: a stored value that cannot be decoded (corrupt, or written by
// a newer version).
var ErrBadRecord = errors.New("bad stored record")

// ErrCorrupt: the database file is damaged (its consistency check failed,
// or reading it panicked). Restore it from a backup or move it aside.
var ErrCorrupt = errors.New("database file is damaged")

// ErrGone: the database file was deleted or replaced while open, so what
// would be written now would be lost at the next start. Nothing is written
// after it; restart to open the file at the path again.
var ErrGone = errors.New("database file was deleted or replaced while in use; restart captionbot")

const (
	bucketUsers = "user_settings"
	bucketChats = "chat_settings"
	// journal buckets are "journal_" + name; the offset lives in bucketState.
	bucketState   = "state"
	journalPrefix = "journal_"
	// donePrefix + name holds handled update IDs → when (unix seconds).
	donePrefix = "done_"
)

// Store is an open bbolt database. It is safe for concurrent use.
type Store struct {
	db   *bbolt.DB
	path string
	// file identifies the open file (device and inode), to notice when
	// the path names another file or none.
	file os.FileInfo

	mu  sync.Mutex
	err error // sticky: set once the file is gone
}

var _ bot.Preferences = (*Store)(nil)

// Options tune OpenWith.
type Options struct {
	// LockTimeout is how long to wait for another process's lock on the
	// file; zero means one second.
	LockTimeout time.Duration
	// CheckTimeout bounds the consistency check on open; zero means
	// DefaultCheckTimeout. A check that takes longer fails the open.
	CheckTimeout time.Duration
}

// DefaultCheckTimeout bounds the consistency check on open. captionbot's
// files are small (settings and a journal): a check takes milliseconds.
const DefaultCheckTimeout = 30 * time.Second

// Open opens (creating if needed) the database at path. If another process
// holds it for longer than timeout (zero means one second), Open returns an
// error wrapping ErrLocked. See OpenWith.
func Open(path string, timeout time.Duration) (*Store, error) {
	return OpenWith(path, Options{LockTimeout: timeout})
}

// OpenWith opens (creating if needed) the database at path and checks its
// consistency (bbolt's Tx.Check); a damaged file gives an error wrapping
// ErrCorrupt, never a panic.
func OpenWith(path string, o Options) (*Store, error) {
	if o.LockTimeout <= 0 {
		o.LockTimeout = time.Second
	}
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = DefaultCheckTimeout
	}
	db, err := openDB(path, o.LockTimeout)
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := check(db, o.CheckTimeout); err != nil {
		// A check still running holds a read transaction, and Close
		// would wait for it: leave the handle to the exiting process.
		if !errors.Is(err, errCheckTimeout) {
			db.Close()
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if s.file, err = os.Stat(path); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	err = s.update(func(tx *bbolt.Tx) error {
		for _, b := range []string{bucketUsers, bucketChats, bucketState} {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("init %s: %w", path, err)
	}
	return s, nil
}

// openDB is bbolt.Open, with a damaged file reported as ErrCorrupt.
func openDB(path string, timeout time.Duration) (db *bbolt.DB, err error) {
	defer func() {
		if p := recover(); p != nil {
			db, err = nil, fmt.Errorf("%w: %v", ErrCorrupt, p)
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	db, err = bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout})
	for _, e := range []error{bolterrors.ErrInvalid, bolterrors.ErrChecksum, bolterrors.ErrVersionMismatch,
		bolterrors.ErrInvalidMapping} {
		if errors.Is(err, e) {
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
	}
	return db, err
}

var errCheckTimeout = errors.New("consistency check did not finish")

// maxCheckErrors is how many problems a failed check reports.
const maxCheckErrors = 3

// check runs bbolt's consistency check, bounded by timeout.
func check(db *bbolt.DB, timeout time.Duration) error {
	done := make(chan []error, 1)
	go func() {
		var errs []error
		defer func() {
			if p := recover(); p != nil {
				errs = append(errs, fmt.Errorf("reading it panicked: %v", p))
			}
			done <- errs
		}()
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		_ = db.View(func(tx *bbolt.Tx) error {
			// Drain every error: the checker blocks until each is read.
			for err := range tx.Check() {
				if len(errs) < maxCheckErrors {
					errs = append(errs, err)
				}
			}
			return nil
		})
	}()
	select {
	case errs := <-done:
		if len(errs) > 0 {
			return fmt.Errorf("%w: %w", ErrCorrupt, errors.Join(errs...))
		}
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("%w: %w in %s", ErrCorrupt, errCheckTimeout, timeout)
	}
}

// Err reports whether the store can still be written: nil, or an error
// wrapping ErrGone once the file at the path was deleted or replaced. It is
// for a readiness check; writes check it themselves.
func (s *Store) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	fi, err := os.Stat(s.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		s.err = fmt.Errorf("%s: %w (the file is gone)", s.path, ErrGone)
	case err != nil:
		return fmt.Errorf("%s: %w", s.path, err) // maybe passing: not sticky
	case !os.SameFile(fi, s.file):
		s.err = fmt.Errorf("%s: %w (another file is there now)", s.path, ErrGone)
	}
	return s.err
}

// view is db.View, with a panic while reading (a damaged page) returned as
// ErrCorrupt.
func (s *Store) view(fn func(*bbolt.Tx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrCorrupt, p)
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return s.db.View(fn)
}

// update is db.Update, refused once the file is gone (Err), with a panic
// returned as ErrCorrupt.
func (s *Store) update(fn func(*bbolt.Tx) error) (err error) {
	if err := s.Err(); err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrCorrupt, p)
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return s.db.Update(fn)
}

// batch is db.Batch, refused once the file is gone (Err).
func (s *Store) batch(fn func(*bbolt.Tx) error) error {
	if err := s.Err(); err != nil {
		return err
	}
	return s.db.Batch(fn)
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func settingsBucket(scope bot.Scope) []byte {
	if scope == bot.ScopeChat {
		return []byte(bucketChats)
	}
	return []byte(bucketUsers)
}

// settingsKey is "platform:id"; platforms contain no ':'.
func settingsKey(k bot.PrefKey) []byte { return []byte(k.Platform + ":" + k.ID) }

// Get returns the settings stored under k, or the zero Settings.
func (s *Store) Get(_ context.Context, k bot.PrefKey) (bot.Settings, error) {
	if err := k.Validate(); err != nil {
		return bot.Settings{}, err
	}
	var out bot.Settings
	err := s.view(func(tx *bbolt.Tx) error {
		v := tx.Bucket(settingsBucket(k.Scope)).Get(settingsKey(k))
		if v == nil {
			return nil
		}
		var err error
		out, err = decodeSettings(v)
		return err
	})
	if err != nil {
		return bot.Settings{}, fmt.Errorf("get settings %s: %w", k, err)
	}
	return out, nil
}

func decodeSettings(v []byte) (bot.Settings, error) {
	st, err := bot.UnmarshalSettings(v)
	if err != nil {
		return st, fmt.Errorf("%w: %w", ErrBadRecord, err)
	}
	return st, nil
}

// Set stores st under k. Zero settings delete the record.
func (s *Store) Set(_ context.Context, k bot.PrefKey, st bot.Settings) error {
	if err := k.Validate(); err != nil {
		return err
	}
	if strings.Contains(k.Platform, ":") {
		return fmt.Errorf("%w: platform contains ':'", bot.ErrBadPrefKey)
	}
	v, err := bot.MarshalSettings(st)
	if err != nil {
		return err
	}
	err = s.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(settingsBucket(k.Scope))
		if st == (bot.Settings{}) {
			return b.Delete(settingsKey(k))
		}
		return b.Put(settingsKey(k), v)
	})
	if err != nil {
		return fmt.Errorf("set settings %s: %w", k, err)
	}
	return nil
}

// Each calls fn for every stored settings record, users first.
func (s *Store) Each(_ context.Context, fn func(bot.PrefKey, bot.Settings) error) error {
	return s.view(func(tx *bbolt.Tx) error {
		for _, scope := range []bot.Scope{bot.ScopeUser, bot.ScopeChat} {
			err := tx.Bucket(settingsBucket(scope)).ForEach(func(k, v []byte) error {
				platform, id, ok := strings.Cut(string(k), ":")
				if !ok {
					return fmt.Errorf("%w: key %q", ErrBadRecord, k)
				}
				st, err := decodeSettings(v)
				if err != nil {
					return fmt.Errorf("%s %q: %w", scope, k, err)
				}
				return fn(bot.PrefKey{Platform: platform, Scope: scope, ID: id}, st)
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// Journal keeps a platform's accepted updates until they are handled, the
// platform's next update offset, and the IDs of recently handled updates (so
// that a redelivered update is recognised, see Claim). Get one with
// Store.Journal.
type Journal struct {
	store  *Store
	bucket []byte
	done   []byte
	offset []byte
	// Remember is how long a handled update's ID is kept for Claim; zero
	// means DefaultRemember. Set it before use.
	Remember time.Duration
	// Now is the clock; nil means time.Now (tests replace it).
	Now func() time.Time
}

// DefaultRemember is how long handled update IDs are remembered: longer
// than Telegram keeps redelivering a webhook update it got no answer for.
const DefaultRemember = 48 * time.Hour

// Journal returns the journal named name (e.g. "telegram").
func (s *Store) Journal(name string) (*Journal, error) {
	j := &Journal{store: s, bucket: []byte(journalPrefix + name), done: []byte(donePrefix + name),
		offset: []byte(name + "_offset")}
	err := s.update(func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(j.bucket); err != nil {
			return err
		}
		_, err := tx.CreateBucketIfNotExists(j.done)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", name, err)
	}
	return j, nil
}

func (j *Journal) now() time.Time {
	if j.Now != nil {
		return j.Now()
	}
	return time.Now()
}

func idKey(id int64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], uint64(id))
	return k[:]
}

// Accept records updates (ID → raw JSON) as accepted but not yet handled,
// and the offset to poll from next, in one transaction.
func (j *Journal) Accept(_ context.Context, updates map[int64][]byte, nextOffset int64) error {
	return j.store.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(j.bucket)
		for id, raw := range updates {
			if err := b.Put(idKey(id), raw); err != nil {
				return err
			}
		}
		if nextOffset > 0 {
			return tx.Bucket([]byte(bucketState)).Put(j.offset, idKey(nextOffset))
		}
		return nil
	})
}

// Claim records one update as accepted, unless it was accepted before: it
// is still pending, or was handled within Remember. fresh reports whether
// it is new; a redelivered update (a webhook retried after a lost answer)
// is not, and must not be handled again.
func (j *Journal) Claim(_ context.Context, id int64, raw []byte) (fresh bool, err error) {
	err = j.store.update(func(tx *bbolt.Tx) error {
		k := idKey(id)
		if tx.Bucket(j.bucket).Get(k) != nil || tx.Bucket(j.done).Get(k) != nil {
			return nil
		}
		fresh = true
		return tx.Bucket(j.bucket).Put(k, raw)
	})
	return fresh, err
}

// pruneBatch bounds the expired IDs one Done removes.
const pruneBatch = 64

// Done moves a handled update from the pending ones to the handled ones
// (remembered for Remember), and forgets handled IDs older than that.
// Concurrent calls are batched into few transactions.
func (j *Journal) Done(_ context.Context, id int64) error {
	now := j.now()
	keep := j.Remember
	if keep <= 0 {
		keep = DefaultRemember
	}
	return j.store.batch(func(tx *bbolt.Tx) error {
		if err := tx.Bucket(j.bucket).Delete(idKey(id)); err != nil {
			return err
		}
		done := tx.Bucket(j.done)
		var at [8]byte
		binary.BigEndian.PutUint64(at[:], uint64(now.Unix()))
		if err := done.Put(idKey(id), at[:]); err != nil {
			return err
		}
		// Update IDs grow with time, so the oldest come first.
		cutoff := now.Add(-keep).Unix()
		var expired [][]byte
		c := done.Cursor()
		for k, v := c.First(); k != nil && len(expired) < pruneBatch; k, v = c.Next() {
			if len(v) == 8 && int64(binary.BigEndian.Uint64(v)) >= cutoff {
				break
			}
			expired = append(expired, append([]byte(nil), k...))
		}
		for _, k := range expired {
			if err := done.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// Handled reports whether update id was handled within Remember.
func (j *Journal) Handled(_ context.Context, id int64) (bool, error) {
	var ok bool
	err := j.store.view(func(tx *bbolt.Tx) error {
		ok = tx.Bucket(j.done).Get(idKey(id)) != nil
		return nil
	})
	return ok, err
}

// Pending returns the updates accepted but not handled, by ID.
func (j *Journal) Pending(_ context.Context) (map[int64][]byte, error) {
	out := map[int64][]byte{}
	err := j.store.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(j.bucket).ForEach(func(k, v []byte) error {
			if len(k) != 8 {
				return fmt.Errorf("%w: journal key %x", ErrBadRecord, k)
			}
			out[int64(binary.BigEndian.Uint64(k))] = append([]byte(nil), v...)
			return nil
		})
	})
	return out, err
}

// Offset returns the stored next offset, 0 if none.
func (j *Journal) Offset(_ context.Context) (int64, error) {
	var off int64
	err := j.store.view(func(tx *bbolt.Tx) error {
		v := tx.Bucket([]byte(bucketState)).Get(j.offset)
		if v == nil {
			return nil
		}
		if len(v) != 8 {
			return fmt.Errorf("%w: offset %x", ErrBadRecord, v)
		}
		off = int64(binary.BigEndian.Uint64(v))
		return nil
	})
	return off, err
}

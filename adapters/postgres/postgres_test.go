package postgres_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/captionbot/captionbot/adapters/postgres"
	"github.com/captionbot/captionbot/adapters/postgres/pgtest"
	"github.com/captionbot/captionbot/adapters/storetest"
	"github.com/captionbot/captionbot/bot"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func open(t *testing.T, dsn string, o postgres.Options) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type contractStore struct{ *postgres.Store }

func (s contractStore) OpenJournal(name string, remember time.Duration, now func() time.Time) (storetest.Journal, error) {
	j, err := s.Journal(name)
	if err != nil {
		return nil, err
	}
	j.Remember, j.Now = remember, now
	return j, nil
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s := open(t, pgtest.DSN(t), postgres.Options{})
		t.Cleanup(func() { s.Close() })
		return contractStore{s}
	})
}

func TestReplicasStartTogether(t *testing.T) {
	dsn := pgtest.DSN(t)
	const n = 4
	errs := make(chan error, n)
	stores := make(chan *postgres.Store, n)
	for range n {
		go func() {
			s, err := postgres.Open(context.Background(), dsn, postgres.Options{})
			errs <- err
			stores <- s
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
		if s := <-stores; s != nil {
			defer s.Close()
		}
	}
	// Opening again finds the schema current.
	s := open(t, dsn, postgres.Options{})
	s.Close()
}

func TestLeaseTakeover(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	o := postgres.Options{Lease: 600 * time.Millisecond}
	a := open(t, dsn, o)
	b := open(t, dsn, o)
	defer b.Close()
	ja, _ := a.Journal("telegram")
	jb, _ := b.Journal("telegram")
	if fresh, err := ja.Claim(ctx, 7, []byte(`{"update_id":7}`)); err != nil || !fresh {
		t.Fatalf("claim = %v, %v", fresh, err)
	}
	// b neither claims nor takes over a live replica's update.
	if fresh, err := jb.Claim(ctx, 7, []byte(`{"update_id":7}`)); err != nil || fresh {
		t.Fatalf("claim on b = %v, %v; want not fresh", fresh, err)
	}
	time.Sleep(time.Second) // a keeps its lease with heartbeats
	if got, err := jb.Reclaim(ctx); err != nil || len(got) != 0 {
		t.Fatalf("reclaim from a live replica = %v, %v", got, err)
	}
	if got, err := jb.Pending(ctx); err != nil || len(got) != 0 {
		t.Fatalf("b's pending while a lives = %v, %v", got, err)
	}
	a.Die()
	if got, _ := jb.Reclaim(ctx); len(got) != 0 {
		t.Fatalf("reclaim before the lease ran out = %v", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := jb.Reclaim(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(got[7]) == `{"update_id":7}` {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("b never took over a's update")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Taken over once: b owns it now.
	if got, _ := jb.Reclaim(ctx); len(got) != 0 {
		t.Errorf("second reclaim = %v", got)
	}
	if got, _ := jb.Pending(ctx); len(got) != 1 {
		t.Errorf("b's pending = %v, want its taken-over update", got)
	}
}

func TestCloseHandsOverAtOnce(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	a := open(t, dsn, postgres.Options{Lease: time.Hour})
	b := open(t, dsn, postgres.Options{Lease: time.Hour})
	defer b.Close()
	ja, _ := a.Journal("telegram")
	jb, _ := b.Journal("telegram")
	if _, err := ja.Claim(ctx, 1, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if got, err := jb.Reclaim(ctx); err != nil || len(got) != 1 {
		t.Errorf("reclaim after a clean stop = %v, %v", got, err)
	}
}

func TestSecondPollerRefused(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	a := open(t, dsn, postgres.Options{})
	b := open(t, dsn, postgres.Options{})
	defer b.Close()
	if err := a.LockPoller(ctx, "telegram"); err != nil {
		t.Fatal(err)
	}
	if err := b.LockPoller(ctx, "telegram"); !errors.Is(err, postgres.ErrPollerRunning) {
		t.Fatalf("second poller: %v, want ErrPollerRunning", err)
	}
	if err := b.LockPoller(ctx, "other"); err != nil {
		t.Errorf("another platform's poller: %v", err)
	}
	// The poller replays every pending update, its earlier self's too.
	ja, _ := a.Journal("telegram")
	if err := ja.Accept(ctx, map[int64][]byte{3: []byte(`{}`)}, 4); err != nil {
		t.Fatal(err)
	}
	a.Close()
	c := open(t, dsn, postgres.Options{})
	defer c.Close()
	if err := c.LockPoller(ctx, "telegram"); err != nil {
		t.Fatalf("poller after the first stopped: %v", err)
	}
	jc, _ := c.Journal("telegram")
	if got, err := jc.Pending(ctx); err != nil || len(got) != 1 {
		t.Errorf("pending = %v, %v", got, err)
	}
}

// TestDatabaseDown runs the store through a loopback proxy that is cut:
// queries and Err fail within the timeout, and work again once the proxy
// is back.
func TestDatabaseDown(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := pgtest.NewProxy(t, u.Host)
	u.Host = p.Addr
	s := open(t, u.String(), postgres.Options{QueryTimeout: 500 * time.Millisecond})
	defer s.Close()
	k := bot.PrefKey{Platform: "telegram", Scope: bot.ScopeUser, ID: "1"}
	if err := s.Set(ctx, k, bot.Settings{Network: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	p.Cut()
	start := time.Now()
	if err := s.Err(); err == nil {
		t.Error("Err with the database unreachable = nil")
	}
	if _, err := s.Get(ctx, k); err == nil {
		t.Error("Get with the database unreachable succeeded")
	}
	j, _ := s.Journal("telegram")
	if _, err := j.Claim(ctx, 1, []byte(`{}`)); err == nil {
		t.Error("Claim with the database unreachable succeeded")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("three calls on a dead database took %s", d)
	}
	p.Restore()
	deadline := time.Now().Add(5 * time.Second)
	for s.Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("store did not reconnect")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st, err := s.Get(ctx, k); err != nil || st.Network != "x" {
		t.Errorf("after reconnect: %+v, %v", st, err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	s := open(t, dsn, postgres.Options{})
	s.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE schema_version SET version = $1`, postgres.SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.Open(ctx, dsn, postgres.Options{}); !errors.Is(err, postgres.ErrNewerSchema) {
		t.Errorf("open of a newer schema: %v, want ErrNewerSchema", err)
	}
}

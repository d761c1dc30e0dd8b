// Package storetest is the contract every captionbot store passes (bbolt
// and PostgreSQL): settings per user and chat, and the update journal that
// the chat adapters rely on. Each store's tests call Run.
package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/captionbot/captionbot/bot"
)

// Journal is the journal a store hands out (telegram.Journal and Handled).
type Journal interface {
	Accept(ctx context.Context, updates map[int64][]byte, nextOffset int64) error
	Claim(ctx context.Context, id int64, raw []byte) (fresh bool, err error)
	Done(ctx context.Context, id int64) error
	Handled(ctx context.Context, id int64) (bool, error)
	Pending(ctx context.Context) (map[int64][]byte, error)
	Offset(ctx context.Context) (int64, error)
}

// Store is what the contract tests use of a store.
type Store interface {
	bot.Preferences
	// OpenJournal returns the journal name remembering handled IDs for
	// remember, on the clock now.
	OpenJournal(name string, remember time.Duration, now func() time.Time) (Journal, error)
}

// Run runs the contract tests; open returns a new, empty store, closed by
// t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) Store) {
	t.Run("Settings", func(t *testing.T) { testSettings(t, open(t)) })
	t.Run("BadKey", func(t *testing.T) { testBadKey(t, open(t)) })
	t.Run("JournalAccept", func(t *testing.T) { testAccept(t, open(t)) })
	t.Run("JournalClaim", func(t *testing.T) { testClaim(t, open(t)) })
	t.Run("JournalClaimRace", func(t *testing.T) { testClaimRace(t, open(t)) })
	t.Run("JournalRemember", func(t *testing.T) { testRemember(t, open(t)) })
	t.Run("JournalsApart", func(t *testing.T) { testApart(t, open(t)) })
}

func journal(t *testing.T, s Store, name string, remember time.Duration, now func() time.Time) Journal {
	t.Helper()
	j, err := s.OpenJournal(name, remember, now)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func testSettings(t *testing.T, s Store) {
	ctx := context.Background()
	zero := 0
	user := bot.PrefKey{Platform: "telegram", Scope: bot.ScopeUser, ID: "42"}
	chat := bot.PrefKey{Platform: "telegram", Scope: bot.ScopeChat, ID: "-100123"}
	dc := bot.PrefKey{Platform: "discord", Scope: bot.ScopeChat, ID: "9"}
	want := map[bot.PrefKey]bot.Settings{
		user: {Network: "linkedin", Tone: "professional", Language: "de", Hashtags: &zero},
		chat: {Network: "x"},
		dc:   {Tone: "playful"},
	}
	for k, v := range want {
		if err := s.Set(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.Get(ctx, bot.PrefKey{Platform: "telegram", Scope: bot.ScopeUser, ID: "7"}); err != nil || got != (bot.Settings{}) {
		t.Errorf("unknown user: %+v, %v", got, err)
	}
	// The same ID as user and as chat are two records.
	if got, err := s.Get(ctx, bot.PrefKey{Platform: "telegram", Scope: bot.ScopeChat, ID: "42"}); err != nil || got != (bot.Settings{}) {
		t.Errorf("chat 42: %+v, %v", got, err)
	}
	got, err := s.Get(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[user], got); diff != "" {
		t.Errorf("Get (-want +got):\n%s", diff)
	}
	// Set overwrites.
	want[chat] = bot.Settings{Network: "plain", Language: "fr"}
	if err := s.Set(ctx, chat, want[chat]); err != nil {
		t.Fatal(err)
	}
	all := map[bot.PrefKey]bot.Settings{}
	var scopes []bot.Scope
	err = s.Each(ctx, func(k bot.PrefKey, v bot.Settings) error {
		all[k] = v
		scopes = append(scopes, k.Scope)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("Each (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]bot.Scope{bot.ScopeUser, bot.ScopeChat, bot.ScopeChat}, scopes); diff != "" {
		t.Errorf("Each order, users first (-want +got):\n%s", diff)
	}
	// fn's error stops Each and comes back.
	stop := errors.New("stop")
	if err := s.Each(ctx, func(bot.PrefKey, bot.Settings) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("Each with failing fn = %v, want %v", err, stop)
	}
	// Zero settings delete the record.
	if err := s.Set(ctx, chat, bot.Settings{}); err != nil {
		t.Fatal(err)
	}
	n := 0
	_ = s.Each(ctx, func(bot.PrefKey, bot.Settings) error { n++; return nil })
	if n != 2 {
		t.Errorf("records after delete = %d, want 2", n)
	}
}

func testBadKey(t *testing.T, s Store) {
	ctx := context.Background()
	for _, k := range []bot.PrefKey{{Scope: bot.ScopeUser, ID: "1"}, {Platform: "t", Scope: "group", ID: "1"}, {Platform: "t", Scope: bot.ScopeUser}} {
		if err := s.Set(ctx, k, bot.Settings{Network: "x"}); !errors.Is(err, bot.ErrBadPrefKey) {
			t.Errorf("Set(%+v) = %v, want ErrBadPrefKey", k, err)
		}
		if _, err := s.Get(ctx, k); !errors.Is(err, bot.ErrBadPrefKey) {
			t.Errorf("Get(%+v) = %v, want ErrBadPrefKey", k, err)
		}
	}
}

func testAccept(t *testing.T, s Store) {
	ctx := context.Background()
	j := journal(t, s, "telegram", 0, nil)
	if off, err := j.Offset(ctx); err != nil || off != 0 {
		t.Fatalf("empty offset = %d, %v", off, err)
	}
	if p, err := j.Pending(ctx); err != nil || len(p) != 0 {
		t.Fatalf("empty pending = %v, %v", p, err)
	}
	if err := j.Accept(ctx, map[int64][]byte{10: []byte(`{"update_id":10}`), 11: []byte(`{"update_id":11}`)}, 12); err != nil {
		t.Fatal(err)
	}
	if err := j.Accept(ctx, map[int64][]byte{12: []byte(`{"update_id":12}`)}, 13); err != nil {
		t.Fatal(err)
	}
	// An offset-only Accept (nothing new) moves the offset; zero keeps it.
	if err := j.Accept(ctx, nil, 14); err != nil {
		t.Fatal(err)
	}
	if err := j.Accept(ctx, nil, 0); err != nil {
		t.Fatal(err)
	}
	if off, err := j.Offset(ctx); err != nil || off != 14 {
		t.Errorf("offset = %d, %v; want 14", off, err)
	}
	if err := j.Done(ctx, 11); err != nil {
		t.Fatal(err)
	}
	p, err := j.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64][]byte{10: []byte(`{"update_id":10}`), 12: []byte(`{"update_id":12}`)}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("pending (-want +got):\n%s", diff)
	}
	if ok, err := j.Handled(ctx, 11); err != nil || !ok {
		t.Errorf("Handled(11) = %v, %v", ok, err)
	}
	if ok, err := j.Handled(ctx, 10); err != nil || ok {
		t.Errorf("Handled(10), pending = %v, %v", ok, err)
	}
}

func testClaim(t *testing.T, s Store) {
	ctx := context.Background()
	j := journal(t, s, "telegram", 0, nil)
	raw := []byte(`{"update_id":5}`)
	for i, want := range []bool{true, false} {
		fresh, err := j.Claim(ctx, 5, raw)
		if err != nil || fresh != want {
			t.Fatalf("claim %d = %v, %v; want %v", i, fresh, err, want)
		}
	}
	if p, err := j.Pending(ctx); err != nil || string(p[5]) != string(raw) {
		t.Fatalf("pending after claim = %v, %v", p, err)
	}
	if err := j.Done(ctx, 5); err != nil {
		t.Fatal(err)
	}
	// Handled: a redelivery is still not fresh.
	if fresh, err := j.Claim(ctx, 5, raw); err != nil || fresh {
		t.Errorf("claim after done = %v, %v; want false", fresh, err)
	}
	if p, err := j.Pending(ctx); err != nil || len(p) != 0 {
		t.Errorf("pending after done = %v, %v", p, err)
	}
}

func testClaimRace(t *testing.T, s Store) {
	ctx := context.Background()
	j := journal(t, s, "telegram", 0, nil)
	const ids, tries = 20, 8
	var fresh atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, ids*tries)
	for id := range int64(ids) {
		for range tries {
			wg.Go(func() {
				ok, err := j.Claim(ctx, id, []byte(`{}`))
				if err != nil {
					errs <- err
					return
				}
				if ok {
					fresh.Add(1)
					if err := j.Done(ctx, id); err != nil {
						errs <- err
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := fresh.Load(); n != ids {
		t.Errorf("%d fresh claims of %d IDs tried %d times each, want %d", n, ids, tries, ids)
	}
}

func testRemember(t *testing.T, s Store) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	j := journal(t, s, "telegram", time.Hour, clock)
	if _, err := j.Claim(ctx, 1, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := j.Done(ctx, 1); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	// A later Done forgets the expired ID: it can be claimed again.
	if _, err := j.Claim(ctx, 2, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := j.Done(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if fresh, err := j.Claim(ctx, 1, []byte(`{}`)); err != nil || !fresh {
		t.Errorf("claim of a forgotten ID = %v, %v; want fresh", fresh, err)
	}
	if fresh, err := j.Claim(ctx, 2, []byte(`{}`)); err != nil || fresh {
		t.Errorf("claim of a remembered ID = %v, %v; want not fresh", fresh, err)
	}
}

func testApart(t *testing.T, s Store) {
	ctx := context.Background()
	a := journal(t, s, "telegram", 0, nil)
	b := journal(t, s, "other", 0, nil)
	if err := a.Accept(ctx, map[int64][]byte{1: []byte(`a`)}, 2); err != nil {
		t.Fatal(err)
	}
	if fresh, err := b.Claim(ctx, 1, []byte(`b`)); err != nil || !fresh {
		t.Errorf("same ID in another journal = %v, %v; want fresh", fresh, err)
	}
	if off, err := b.Offset(ctx); err != nil || off != 0 {
		t.Errorf("other journal's offset = %d, %v", off, err)
	}
	if p, err := a.Pending(ctx); err != nil || string(p[1]) != "a" || len(p) != 1 {
		t.Errorf("pending = %v, %v", p, err)
	}
}

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/captionbot/captionbot/adapters/bolt"
	"github.com/captionbot/captionbot/adapters/postgres"
	"github.com/captionbot/captionbot/adapters/postgres/pgtest"
	"github.com/captionbot/captionbot/bot"
)

func storeConfigFile(t *testing.T, dbPath string) string {
	t.Helper()
	return writeConfig(t, "[store]\npath = \""+dbPath+"\"\n")
}

func TestPrefsExportImport(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srcDB := filepath.Join(dir, "src.db")
	st, err := bolt.Open(srcDB, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	five := 5
	_ = st.Set(ctx, bot.PrefKey{Platform: "telegram", Scope: bot.ScopeUser, ID: "42"}, bot.Settings{Network: "linkedin", Hashtags: &five})
	_ = st.Set(ctx, bot.PrefKey{Platform: "telegram", Scope: bot.ScopeChat, ID: "-100"}, bot.Settings{Tone: "witty"})

	// While the bot holds the store, prefs refuses clearly.
	var stdout, stderr bytes.Buffer
	if code := run(ctx, defaultDeps(), []string{"prefs", "export", "--config", storeConfigFile(t, srcDB)}, &stdout, &stderr); code != exitUsage ||
		!strings.Contains(stderr.String(), "in use by another captionbot") {
		t.Errorf("export of a locked store: code %d, stderr %q", code, stderr.String())
	}
	st.Close()

	backup := filepath.Join(dir, "backup.json")
	stderr.Reset()
	if code := run(ctx, defaultDeps(), []string{"prefs", "export", "--config", storeConfigFile(t, srcDB), backup}, &stdout, &stderr); code != exitOK {
		t.Fatalf("export: %d %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "exported 2") {
		t.Errorf("stderr %q", stderr.String())
	}

	dstDB := filepath.Join(dir, "dst.db")
	stderr.Reset()
	if code := run(ctx, defaultDeps(), []string{"prefs", "import", backup, "--config", storeConfigFile(t, dstDB)}, &stdout, &stderr); code != exitOK {
		t.Fatalf("import: %d %s", code, stderr.String())
	}
	dst, err := bolt.Open(dstDB, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	got, _ := dst.Get(ctx, bot.PrefKey{Platform: "telegram", Scope: bot.ScopeUser, ID: "42"})
	if got.Network != "linkedin" || got.HashtagCount() != 5 {
		t.Errorf("imported %+v", got)
	}
}

func TestPrefsUsageErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte(`{"version":1,"records":[{"platform":"t","scope":"user","id":"1","settings":{"network":"myspace"}}]}`), 0o600)
	cfg := storeConfigFile(t, filepath.Join(dir, "x.db"))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"prefs"}, "usage"},
		{[]string{"prefs", "frob"}, "usage"},
		{[]string{"prefs", "export", "--config", cfg}, "no settings store"},
		{[]string{"prefs", "import", "--config", cfg, bad}, "not a captionbot preferences backup"},
		{[]string{"prefs", "import", "--config", cfg, filepath.Join(dir, "missing.json")}, "no such file"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(ctx, defaultDeps(), tc.args, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: code %d, stderr %q; want 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

// TestPrefsBoltToPostgres is the README's move from bbolt to PostgreSQL:
// export with the bolt config, import with the postgres one.
func TestPrefsBoltToPostgres(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	hermeticConfigEnv(t)
	dir := t.TempDir()
	srcDB := filepath.Join(dir, "src.db")
	st, err := bolt.Open(srcDB, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	five := 5
	user := bot.PrefKey{Platform: "telegram", Scope: bot.ScopeUser, ID: "42"}
	_ = st.Set(ctx, user, bot.Settings{Network: "linkedin", Hashtags: &five})
	_ = st.Set(ctx, bot.PrefKey{Platform: "discord", Scope: bot.ScopeChat, ID: "7"}, bot.Settings{Tone: "witty"})
	st.Close()

	backup := filepath.Join(dir, "backup.json")
	var stdout, stderr bytes.Buffer
	if code := run(ctx, defaultDeps(), []string{"prefs", "export", "--config", storeConfigFile(t, srcDB), backup}, &stdout, &stderr); code != exitOK {
		t.Fatalf("export: %d %s", code, stderr.String())
	}
	pgConfig := writeConfig(t, "[store]\ndriver = \"postgres\"\n")
	t.Setenv(envStoreDSN, dsn)
	stderr.Reset()
	if code := run(ctx, defaultDeps(), []string{"prefs", "import", "--config", pgConfig, backup}, &stdout, &stderr); code != exitOK ||
		!strings.Contains(stderr.String(), "imported 2") {
		t.Fatalf("import: %d %s", code, stderr.String())
	}
	stderr.Reset()
	stdout.Reset()
	if code := run(ctx, defaultDeps(), []string{"prefs", "export", "--config", pgConfig}, &stdout, &stderr); code != exitOK {
		t.Fatalf("export from postgres: %d %s", code, stderr.String())
	}
	want, _ := os.ReadFile(backup)
	if stdout.String() != string(want) {
		t.Errorf("postgres export differs from the bolt one:\n%s\nwant:\n%s", stdout.String(), want)
	}
	pg, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if got, _ := pg.Get(ctx, user); got.Network != "linkedin" || got.HashtagCount() != 5 {
		t.Errorf("imported %+v", got)
	}
}

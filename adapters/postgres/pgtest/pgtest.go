// Package pgtest gives tests a real PostgreSQL: the one named by
// $CAPTIONBOT_TEST_PG_DSN, or else a server it starts itself (initdb and
// pg_ctl from /usr/lib/postgresql/*/bin) in a temporary data directory on a
// loopback port, as user nobody when the tests run as root. Each test gets
// a database of its own. Tests skip with a message when neither is there.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names a server to use instead of starting one (a superuser DSN;
// each test creates a database on it).
const EnvDSN = "CAPTIONBOT_TEST_PG_DSN"

var (
	once    sync.Once
	baseDSN string // maintenance DSN (database postgres)
	skipMsg string
	stopFn  func()
	dbSeq   atomic.Int64
)

// Main runs the tests and then stops the server pgtest started, if any.
func Main(m *testing.M) int {
	code := m.Run()
	if stopFn != nil {
		stopFn()
	}
	return code
}

// DSN returns the DSN of a fresh, empty database for t, or skips t.
func DSN(t testing.TB) string {
	t.Helper()
	once.Do(start)
	if baseDSN == "" {
		t.Skip(skipMsg)
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, baseDSN)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return withDB(baseDSN, name)
}

// withDB replaces the database in a URL DSN.
func withDB(dsn, db string) string {
	base, query, _ := strings.Cut(dsn, "?")
	i := strings.LastIndex(base, "/")
	if i > len("postgres://") {
		base = base[:i]
	}
	out := base + "/" + db
	if query != "" {
		out += "?" + query
	}
	return out
}

func start() {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		baseDSN = dsn
		return
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		skipMsg = "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb) and $" + EnvDSN + " is unset: apt-get install postgresql"
		return
	}
	sort.Strings(bins)
	bin := filepath.Dir(bins[len(bins)-1])
	dir, err := os.MkdirTemp("", "captionbot-pg-")
	if err != nil {
		skipMsg = "pgtest: " + err.Error()
		return
	}
	asUser := func(name string, args ...string) *exec.Cmd {
		return exec.Command(filepath.Join(bin, name), args...)
	}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root.
		u, err := user.Lookup("nobody")
		if err != nil {
			skipMsg = "pgtest: running as root and no user nobody: " + err.Error()
			return
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			skipMsg = "pgtest: " + err.Error()
			return
		}
		asUser = func(name string, args ...string) *exec.Cmd {
			return exec.Command("runuser", append([]string{"-u", "nobody", "--", filepath.Join(bin, name)}, args...)...)
		}
	}
	data := filepath.Join(dir, "data")
	fail := func(what string, err error, out []byte) {
		skipMsg = fmt.Sprintf("pgtest: %s: %v\n%s", what, err, out)
		_ = os.RemoveAll(dir)
	}
	if out, err := asUser("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		fail("initdb", err, out)
		return
	}
	port, err := freePort()
	if err != nil {
		fail("port", err, nil)
		return
	}
	opts := fmt.Sprintf("-h 127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", port, dir)
	if out, err := asUser("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		fail("pg_ctl start", err, append(out, log...))
		return
	}
	baseDSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	stopFn = func() {
		_ = asUser("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop").Run()
		_ = os.RemoveAll(dir)
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("not TCP")
	}
	return addr.Port, nil
}

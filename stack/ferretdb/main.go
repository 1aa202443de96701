// Command ferretdb runs FerretDB v1 with the SQLite handler.
//
// It is a wrapper module because `go install .../cmd/ferretdb@v1.24.2` panics at start
// (version.txt is missing from the module zip); the check is skipped for other main modules.
//
// It also gives every collection an `_id` index SQLite can use (see idIndexes).
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	_ "modernc.org/sqlite" // the database/sql driver FerretDB uses, for the wrapper's own connections
)

// gcPercent trades memory for CPU: at Go's default (100) a third of an insert's CPU went to the garbage collector;
// at 400 FerretDB's heap stays ~150 MB under a bulk load. GOGC in the environment still wins.
const gcPercent = 400

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27018", "TCP address to listen on")
	sqliteURL := flag.String("sqlite-url", "", "SQLite URL: file:<existing dir>/")
	migrate := flag.Bool("migrate", false, "move the _id indexes of the databases on disk (done at start anyway) and exit")
	flag.Parse()
	if *sqliteURL == "" {
		log.Fatal("-sqlite-url is required")
	}
	if *migrate {
		ids, err := newIDIndexes(*sqliteURL, slog.New(slog.NewTextHandler(os.Stderr, nil)))
		if err == nil && ids != nil {
			err = ids.ensureAll(context.Background())
		}
		if err != nil {
			log.Fatal(err)
		}
		return
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}

	f, err := newFerretDB(context.Background(), *listen, *sqliteURL, os.Stderr)
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
}

// newFerretDB moves the `_id` index of the databases already in the SQLite directory onto the expression
// FerretDB's statements use (once per collection), then returns FerretDB listening on listen and logging to out.
func newFerretDB(ctx context.Context, listen, sqliteURL string, out io.Writer) (*ferretdb.FerretDB, error) {
	text := slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo})
	handler := lazyAttrs{inner: text}

	ids, err := newIDIndexes(sqliteURL, slog.New(text))
	if err != nil {
		return nil, err
	}
	if ids != nil {
		if err := ids.ensureAll(ctx); err != nil {
			return nil, err
		}
		handler.onSQL = ids.onStatement
	}

	return ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listen},
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
		Logger:    slog.New(handler),
	})
}

// lazyAttrs formats attributes only for records that are logged. FerretDB calls Logger.With(args) around every SQL
// statement to log it at debug level, and slog's own handlers format the attributes (the whole document, quoted)
// in With whatever the level: that was a quarter of FerretDB's CPU during inserts.
//
// With onSQL set, it also hands onSQL every statement FerretDB runs on an SQLite database (the debug records of
// the loggers FerretDB names "sqlite" and then the database's name), whatever the level.
type lazyAttrs struct {
	inner    slog.Handler
	attrs    []slog.Attr
	names    []string // values of FerretDB's "name" attributes (its logging.WithName), outermost first
	onSQL    func(database, message string)
	database string // the database whose statements this logger logs, or ""
}

func (h lazyAttrs) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level) || (h.onSQL != nil && h.database != "")
}

func (h lazyAttrs) Handle(ctx context.Context, r slog.Record) error {
	if h.onSQL != nil && h.database != "" {
		h.onSQL(h.database, r.Message)
	}
	if !h.inner.Enabled(ctx, r.Level) {
		return nil
	}
	return h.inner.WithAttrs(h.attrs).Handle(ctx, r)
}

func (h lazyAttrs) WithAttrs(attrs []slog.Attr) slog.Handler {
	// Full slice expressions: siblings derived from one logger never share an appended tail.
	next := h
	next.attrs = append(h.attrs[:len(h.attrs):len(h.attrs)], attrs...)
	for _, a := range attrs {
		if a.Key == "name" {
			next.names = append(next.names[:len(next.names):len(next.names)], a.Value.String())
		}
	}
	next.database = ""
	if len(next.names) == 2 && next.names[0] == "sqlite" {
		next.database = next.names[1]
	}
	return next
}

func (h lazyAttrs) WithGroup(name string) slog.Handler {
	return lazyAttrs{inner: h.inner.WithAttrs(h.attrs).WithGroup(name)}
}

// idColumn is the expression FerretDB v1.24's SQLite backend filters `_id` on in every find, update and delete
// (metadata.IDColumn there).
const idColumn = `_ferretdb_sjson->'$._id'`

// idIndexCreated is the statement log of FerretDB creating a collection's `_id` index (on _ferretdb_sjson->"_id").
var idIndexCreated = regexp.MustCompile(`^<<< CREATE UNIQUE INDEX ("(?:[^"\\]|\\.)*") ON ("(?:[^"\\]|\\.)*") \(_ferretdb_sjson->"_id"\)$`)

// idIndexes keeps each collection's unique `_id` index on idColumn.
//
// FerretDB v1.24 creates that index on _ferretdb_sjson->"_id", the same value, but SQLite uses an index for a
// WHERE term only if their expressions are written alike, so every find, update and delete by `_id` scanned the
// whole table. The index is replaced, under FerretDB's name for it, by one on idColumn: still unique, so inserts
// detect duplicate `_id`s as before, and still one index per document to maintain.
//
// Collections created while FerretDB runs get it in the statement log of FerretDB's own index (onStatement): that
// runs under FerretDB's registry lock, so nothing writes to the new table and its database cannot be dropped
// meanwhile. Databases already on disk get it before FerretDB starts (ensureAll).
type idIndexes struct {
	dir   string     // the SQLite directory: one <database>.sqlite per database
	query url.Values // the SQLite URL's parameters, for the wrapper's own connections
	log   *slog.Logger
}

// newIDIndexes returns nil for an in-memory SQLite URL: there each connection sees a database of its own.
func newIDIndexes(sqliteURL string, logger *slog.Logger) (*idIndexes, error) {
	u, err := url.Parse(sqliteURL)
	if err != nil {
		return nil, fmt.Errorf("-sqlite-url: %w", err)
	}
	dir := u.Path
	if dir == "" {
		dir = u.Opaque
	}
	query := u.Query()
	if query.Get("mode") == "memory" {
		return nil, nil
	}
	query.Set("mode", "rw") // never create a database FerretDB did not
	if !strings.Contains(strings.Join(query["_pragma"], ","), "busy_timeout") {
		query.Add("_pragma", "busy_timeout(10000)") // FerretDB's default: wait for its writes rather than fail
	}
	return &idIndexes{dir: dir, query: query, log: logger}, nil
}

// ensureAll moves the `_id` index of every collection of every database in the directory.
func (x *idIndexes) ensureAll(ctx context.Context) error {
	files, err := filepath.Glob(filepath.Join(x.dir, "*.sqlite"))
	if err != nil {
		return err
	}
	for _, file := range files {
		database := strings.TrimSuffix(filepath.Base(file), ".sqlite")
		if err := x.ensure(ctx, database, nil, slog.LevelInfo); err != nil {
			return err
		}
	}
	return nil
}

// onStatement moves the `_id` index of a collection FerretDB has just created.
func (x *idIndexes) onStatement(database, message string) {
	if !strings.HasPrefix(message, "<<< CREATE UNIQUE INDEX ") {
		return
	}
	m := idIndexCreated.FindStringSubmatch(message)
	if m == nil {
		return
	}
	index, err := strconv.Unquote(m[1])
	if err != nil {
		return
	}
	table, err := strconv.Unquote(m[2])
	if err != nil || index != table+"__id_" {
		return
	}
	if err := x.ensure(context.Background(), database, []string{table}, slog.LevelDebug); err != nil {
		// The collection works, only its finds, updates and deletes by `_id` scan until the next start.
		x.log.Error("could not move the _id index onto "+idColumn, slog.Any("error", err))
	}
}

// ensure moves the `_id` index of tables (nil: all collections) in database, logging each move at level.
func (x *idIndexes) ensure(ctx context.Context, database string, tables []string, level slog.Level) error {
	file := filepath.Join(x.dir, database+".sqlite")
	db, err := sql.Open("sqlite", (&url.URL{Scheme: "file", Opaque: file, RawQuery: x.query.Encode()}).String())
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	if tables == nil {
		if tables, err = collectionTables(ctx, db); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
	}
	for _, table := range tables {
		start := time.Now()
		where := []any{slog.String("database", database), slog.String("table", table)}
		moved, err := moveIDIndex(ctx, db, table, func() {
			x.log.Log(ctx, level, "moving the _id index onto "+idColumn+" (once; minutes for millions of documents)", where...)
		})
		if err != nil {
			return fmt.Errorf("%s, table %s: %w", file, table, err)
		}
		if moved {
			x.log.Log(ctx, level, "moved the _id index onto "+idColumn, append(where, slog.Duration("took", time.Since(start)))...)
		}
	}
	return nil
}

// collectionTables lists the tables of FerretDB's collections in db (none before its metadata table exists).
func collectionTables(ctx context.Context, db *sql.DB) ([]string, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '_ferretdb_collections'`).Scan(&n)
	if err != nil || n == 0 {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM _ferretdb_collections`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var table string
		if err := rows.Scan(&table); err != nil {
			return nil, err
		}
		tables = append(tables, table)
	}
	return tables, rows.Err()
}

// moveIDIndex replaces FerretDB's `_id` index of table by the same unique index on idColumn, in one transaction,
// calling starting first; false if it is there already (or FerretDB has none: a collection it did not finish
// creating).
func moveIDIndex(ctx context.Context, db *sql.DB, table string, starting func()) (bool, error) {
	name := table + "__id_" // FerretDB names an index <table>_<index name>; `_id`'s is "_id_"
	want := fmt.Sprintf("CREATE UNIQUE INDEX %q ON %q (%s)", name, table, idColumn)

	var have string
	err := db.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?`, name).Scan(&have)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && have == want) {
		return false, nil
	}
	if err != nil {
		return false, err
	}

	starting()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("DROP INDEX %q", name)); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, want); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// countingValue counts how often slog asks for its value, i.e. how often the attribute is formatted.
type countingValue struct{ calls *int }

func (v countingValue) LogValue() slog.Value {
	*v.calls++
	return slog.StringValue("the document")
}

func newLogger(out *bytes.Buffer) *slog.Logger {
	return slog.New(lazyAttrs{inner: slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo})})
}

func TestAttributesAreFormattedOnlyForRecordsThatAreLogged(t *testing.T) {
	var out bytes.Buffer
	calls := 0
	logger := newLogger(&out).With(slog.Any("args", countingValue{&calls}))

	logger.Debug(">>> INSERT")
	if calls != 0 || out.Len() != 0 {
		t.Fatalf("a debug record below the level formatted its attributes %d time(s), wrote %q", calls, out.String())
	}

	logger.Info("<<< INSERT", slog.Int("rows", 2))
	if calls != 1 {
		t.Fatalf("a logged record formatted its attributes %d time(s), want 1", calls)
	}
	if line := out.String(); !strings.Contains(line, `args="the document"`) || !strings.Contains(line, "rows=2") {
		t.Fatalf("logged line lacks its attributes: %q", line)
	}
}

func TestLoggersDerivedFromOneParentKeepTheirOwnAttributes(t *testing.T) {
	var out bytes.Buffer
	parent := newLogger(&out).With("conn", "a")
	first, second := parent.With("op", "insert"), parent.With("op", "delete")

	first.Info("one")
	second.Info("two")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "conn=a op=insert") || !strings.Contains(lines[1], "conn=a op=delete") {
		t.Fatalf("unexpected lines: %q", lines)
	}
}

func TestAttributesAfterAGroupAreNestedInIt(t *testing.T) {
	var out bytes.Buffer
	newLogger(&out).With("conn", "a").WithGroup("sql").With("query", "SELECT").Info("done")
	if line := out.String(); !strings.Contains(line, "conn=a sql.query=SELECT") {
		t.Fatalf("unexpected line: %q", line)
	}
}

func TestStatementsOfSQLiteDatabasesReachOnSQLWhateverTheLevel(t *testing.T) {
	var out bytes.Buffer
	var seen []string
	root := slog.New(lazyAttrs{
		inner: slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}),
		onSQL: func(database, message string) { seen = append(seen, database+": "+message) },
	})
	backend := root.With("name", "sqlite")

	backend.With("name", "discogs").With("args", []any{"x"}).Debug("<<< CREATE TABLE t")
	backend.Debug("not a statement: no database")
	root.With("name", "listener").With("name", "discogs").Debug("not a statement: another component")

	if want := []string{"discogs: <<< CREATE TABLE t"}; !slices.Equal(seen, want) {
		t.Fatalf("onSQL saw %q, want %q", seen, want)
	}
	if out.Len() != 0 {
		t.Fatalf("debug records were written: %q", out.String())
	}
}

// startFerretDB runs FerretDB on dir (as the wrapper does, or with FerretDB's own logger if stock) until the test
// ends or stop is called, and returns a client of it.
func startFerretDB(t *testing.T, dir string, stock bool) (client *mongo.Client, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sqliteURL := "file:" + dir + "/"
	var f *ferretdb.FerretDB
	var err error
	if stock {
		f, err = ferretdb.New(&ferretdb.Config{
			Listener: ferretdb.ListenerConfig{TCP: "127.0.0.1:0"}, Handler: "sqlite", SQLiteURL: sqliteURL,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
	} else {
		f, err = newFerretDB(ctx, "127.0.0.1:0", sqliteURL, io.Discard)
	}
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	client, err = mongo.Connect(ctx, options.Client().ApplyURI(f.MongoDBURI()))
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = client.Disconnect(context.Background())
			cancel()
			<-done
		})
	}
	t.Cleanup(stop)
	return client, stop
}

// sqliteFile opens a database of dir read-only, for its schema and query plans.
func sqliteFile(t *testing.T, dir, database string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, database+".sqlite")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func tableOf(t *testing.T, db *sql.DB, collection string) string {
	t.Helper()
	var table string
	if err := db.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = ?`, collection).Scan(&table); err != nil {
		t.Fatal(err)
	}
	return table
}

// requireIndexedStatements checks the `_id` indexes of table and SQLite's plan of the statements FerretDB runs to
// find, update and delete by `_id` (internal/backends/sqlite/collection.go): each searches the unique index.
func requireIndexedStatements(t *testing.T, db *sql.DB, table string) {
	t.Helper()
	rows, err := db.Query(`SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?`, table)
	if err != nil {
		t.Fatal(err)
	}
	var indexes []string
	for rows.Next() {
		var name, text string
		if err := rows.Scan(&name, &text); err != nil {
			t.Fatal(err)
		}
		indexes = append(indexes, text)
	}
	want := fmt.Sprintf(`CREATE UNIQUE INDEX "%[1]s__id_" ON "%[1]s" (_ferretdb_sjson->'$._id')`, table)
	if !slices.Equal(indexes, []string{want}) {
		t.Fatalf("indexes of %s: %q, want only %q", table, indexes, want)
	}

	for _, statement := range []string{
		`SELECT _ferretdb_sjson FROM %q WHERE _ferretdb_sjson->'$._id' = ?`,
		`UPDATE %q SET _ferretdb_sjson = ? WHERE _ferretdb_sjson->'$._id' = ?`,
		`DELETE FROM %q WHERE _ferretdb_sjson->'$._id' IN (?, ?)`,
	} {
		q := fmt.Sprintf(statement, table)
		var id, parent, notUsed int
		var detail string
		if err := db.QueryRow("EXPLAIN QUERY PLAN "+q, "x", "y").Scan(&id, &parent, &notUsed, &detail); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if want := fmt.Sprintf("SEARCH %s USING INDEX %s__id_ (<expr>=?)", table, table); detail != want {
			t.Fatalf("%s: plan %q, want %q", q, detail, want)
		}
	}
}

func TestCollectionsFindUpdateAndDeleteByIDThroughTheIndex(t *testing.T) {
	dir := t.TempDir()
	client, _ := startFerretDB(t, dir, false)
	ctx := context.Background()
	coll := client.Database("db").Collection("releases")

	docs := []any{bson.M{"_id": "1", "v": 1}, bson.M{"_id": "2", "v": 2}, bson.M{"_id": "3", "v": 3}}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.InsertOne(ctx, bson.M{"_id": "2", "v": 20}); !mongo.IsDuplicateKeyError(err) {
		t.Fatalf("insert of a stored _id: %v, want a duplicate key error", err)
	}
	if _, err := coll.ReplaceOne(ctx, bson.M{"_id": "2"}, bson.M{"_id": "2", "v": 22}); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.DeleteOne(ctx, bson.M{"_id": "3"}); err != nil {
		t.Fatal(err)
	}
	var got []bson.M
	cursor, err := coll.Find(ctx, bson.M{}, options.Find().SetSort(bson.M{"_id": 1}))
	if err != nil {
		t.Fatal(err)
	}
	if err := cursor.All(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[map[_id:1 v:1] map[_id:2 v:22]]" {
		t.Fatalf("stored %v", got)
	}

	db := sqliteFile(t, dir, "db")
	requireIndexedStatements(t, db, tableOf(t, db, "releases"))
}

func TestCollectionsStoredBeforeGetTheIndexAtStart(t *testing.T) {
	dir := t.TempDir()
	client, stop := startFerretDB(t, dir, true)
	docs := []any{bson.M{"_id": "1"}, bson.M{"_id": "2"}}
	if _, err := client.Database("db").Collection("releases").InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	stop()

	client, _ = startFerretDB(t, dir, false)
	coll := client.Database("db").Collection("releases")
	if _, err := coll.InsertOne(context.Background(), bson.M{"_id": "1"}); !mongo.IsDuplicateKeyError(err) {
		t.Fatalf("insert of a stored _id: %v, want a duplicate key error", err)
	}
	db := sqliteFile(t, dir, "db")
	requireIndexedStatements(t, db, tableOf(t, db, "releases"))
}

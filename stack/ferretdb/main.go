// Command ferretdb runs FerretDB v1 with the SQLite handler.
//
// It is a wrapper module because `go install .../cmd/ferretdb@v1.24.2` panics at start
// (version.txt is missing from the module zip); the check is skipped for other main modules.
package main

import (
	"context"
	"flag"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// gcPercent trades memory for CPU: at Go's default (100) a third of an insert's CPU went to the garbage collector;
// at 400 FerretDB's heap stays ~150 MB under a bulk load. GOGC in the environment still wins.
const gcPercent = 400

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27018", "TCP address to listen on")
	sqliteURL := flag.String("sqlite-url", "", "SQLite URL: file:<existing dir>/")
	flag.Parse()
	if *sqliteURL == "" {
		log.Fatal("-sqlite-url is required")
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: *sqliteURL,
		Logger:    slog.New(lazyAttrs{inner: slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})}),
	})
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
}

// lazyAttrs formats attributes only for records that are logged. FerretDB calls Logger.With(args) around every SQL
// statement to log it at debug level, and slog's own handlers format the attributes (the whole document, quoted)
// in With whatever the level: that was a quarter of FerretDB's CPU during inserts.
type lazyAttrs struct {
	inner slog.Handler
	attrs []slog.Attr
}

func (h lazyAttrs) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

func (h lazyAttrs) Handle(ctx context.Context, r slog.Record) error {
	return h.inner.WithAttrs(h.attrs).Handle(ctx, r)
}

func (h lazyAttrs) WithAttrs(attrs []slog.Attr) slog.Handler {
	// A full slice expression: siblings derived from one logger never share the appended tail.
	return lazyAttrs{inner: h.inner, attrs: append(h.attrs[:len(h.attrs):len(h.attrs)], attrs...)}
}

func (h lazyAttrs) WithGroup(name string) slog.Handler {
	return lazyAttrs{inner: h.inner.WithAttrs(h.attrs).WithGroup(name)}
}

// Command ferretdb runs FerretDB v1 with the SQLite handler.
//
// It is a wrapper module because `go install .../cmd/ferretdb@v1.24.2` panics at start
// (version.txt is missing from the module zip); the check is skipped for other main modules.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27018", "TCP address to listen on")
	sqliteURL := flag.String("sqlite-url", "", "SQLite URL: file:<existing dir>/")
	flag.Parse()
	if *sqliteURL == "" {
		log.Fatal("-sqlite-url is required")
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: *sqliteURL,
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

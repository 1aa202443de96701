package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
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

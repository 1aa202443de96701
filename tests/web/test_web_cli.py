import argparse

from web import cli


def test_web_subcommand_options():
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["web", "--host", "0.0.0.0", "--port", "9000"])
    assert (args.host, args.port, args.func) == ("0.0.0.0", 9000, cli.run)
    defaults = parser.parse_args(["web"])
    assert (defaults.host, defaults.port) == (None, None)

"""`dataget youtube-worker`: builds the requested playlists (see stream_processors.youtube.consumer)."""


from __future__ import annotations

import argparse
import asyncio
import signal

from runtime.local_secrets import with_local_secrets
from runtime.settings import Settings
from runtime.topic_admin import ensure_topics
from stream_processors.youtube.consumer import run_worker
from stream_processors.youtube.repositories import DEFAULT_TICK


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("youtube-worker", help="create YouTube playlists from playlist.requests jobs")
    parser.add_argument("--daily-units", type=int, default=None,
                        help="YouTube API units this site may spend per Pacific day "
                             "(default: DATAGET_YOUTUBE_DAILY_UNITS, else 10000)")
    parser.add_argument("--worker-id", default=None, help="unique per worker process (default: host name)")
    parser.add_argument("--tick", type=float, default=DEFAULT_TICK,
                        help="seconds between scans for runnable jobs (default %(default)s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    settings = with_local_secrets(settings)
    if args.daily_units is not None:
        settings = settings.with_(youtube_daily_units=args.daily_units)
    ensure_topics(settings)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop=stop, worker_id=args.worker_id, tick=args.tick)

    asyncio.run(main())
    return 0

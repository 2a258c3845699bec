"""``envgrid simulate``: a living demo district (readings, alarms, cases moving) for demos and soak tests."""
from __future__ import annotations

import sys


def register(subparsers) -> None:
    from gis.cli import add_db_argument

    simulate = subparsers.add_parser(
        "simulate", help="simulate stations reporting, alarms firing and cases moving (demo, soak tests)")
    add_db_argument(simulate)
    simulate.add_argument("--rate", type=float, default=1.0,
                          help="event rate multiplier: cases from patrols and complaints (about 5 per simulated "
                               "hour at 1), pollution episodes and outages (default 1)")
    simulate.add_argument("--speed", type=float, default=60.0,
                          help="simulated seconds per real second (default 60: a simulated hour per minute)")
    simulate.add_argument("--duration", type=float, metavar="S",
                          help="stop after S real seconds at full pace (S × speed simulated); default: until Ctrl+C")
    simulate.add_argument("--seed", type=int, default=0, help="random seed: same seed, start and workspace → "
                                                              "same run (default 0)")
    simulate.add_argument("--start", metavar="ISO", help="simulated start time (default now)")
    simulate.add_argument("--minute-every", type=int, default=5, metavar="M",
                          help="send minute data (CN 2051) every M simulated minutes (default 5)")
    simulate.add_argument("--hj212", metavar="HOST:PORT",
                          help="send readings as HJ 212 frames to a running 'envgrid hj212-listen' instead of "
                               "writing them directly")
    simulate.set_defaults(handler=run_simulate)


def _address(text: str) -> tuple[str, int]:
    from gis.cli import CliError

    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CliError(f"--hj212 must be HOST:PORT, e.g. 127.0.0.1:9212, got {text!r}")
    return host, int(port)


def run_simulate(args) -> int:
    import signal
    import threading
    from datetime import datetime

    from gis.cli import CliError
    from gis.simulate import SimConfig, Simulator
    from gis.storage.store import open_store

    problems = []
    if not args.rate > 0:
        problems.append(f"--rate must be above 0, got {args.rate:g}")
    if not args.speed > 0:
        problems.append(f"--speed must be above 0, got {args.speed:g}")
    if args.duration is not None and not args.duration > 0:
        problems.append(f"--duration must be above 0 seconds, got {args.duration:g}")
    if args.minute_every < 1:
        problems.append(f"--minute-every must be 1 or more, got {args.minute_every}")
    start = None
    if args.start:
        try:
            start = datetime.fromisoformat(args.start)
        except ValueError:
            problems.append(f"--start: not an ISO date-time: {args.start!r}")
    if problems:
        raise CliError(*problems)
    address = _address(args.hj212) if args.hj212 else None
    config = SimConfig(rate=args.rate, speed=args.speed, duration=args.duration, seed=args.seed, start=start,
                       hj212=address, minute_every=args.minute_every)
    store = open_store(args.db)
    try:
        try:
            simulator = Simulator(store, config, say=lambda m: print(f"envgrid simulate: {m}", file=sys.stderr))
        except ValueError as exc:
            raise CliError(str(exc)) from None
        # Finish the minute, then stop. Not ``stop_event.set()`` in the handler itself: the handler runs in the
        # main thread, which may be inside ``stop_event.wait()`` holding the event's lock — set() would then
        # wait for that lock for ever. A short-lived thread sets it once the main thread lets go.
        previous = signal.signal(signal.SIGINT, lambda *_: threading.Thread(target=simulator.stop_event.set,
                                                                            daemon=True).start())
        print(f"envgrid simulate: from {simulator.clock:%Y-%m-%d %H:%M}, speed {args.speed:g}×, rate {args.rate:g}, "
              f"{len(simulator.stations)} stations{f', frames to {args.hj212}' if address else ''}; Ctrl+C stops",
              file=sys.stderr, flush=True)
        try:
            stats = simulator.run()
        except OSError as exc:
            raise CliError(f"cannot send to {args.hj212}: {exc.strerror or exc}") from None
        finally:
            signal.signal(signal.SIGINT, previous)
    finally:
        store.close()
    print(stats.line())
    return 0

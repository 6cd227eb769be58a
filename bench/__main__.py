"""``python -m bench NAME [options]``: run one benchmark, print its figures as one JSON line.

``python -m bench --list`` lists the benchmarks. Logs go to stderr; stdout carries only the JSON
(anything a benchmark prints is redirected to stderr while it runs).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import math
import pkgutil
import sys
from types import ModuleType
from typing import Any

import bench
from bench.harness import result

NOT_BENCHMARKS = {"harness", "loadgen", "apps"}


def benchmarks() -> dict[str, str]:
    """Benchmark module name -> first line of its docstring."""
    found = {}
    for info in pkgutil.iter_modules(bench.__path__):
        if info.name.startswith("_") or info.name in NOT_BENCHMARKS:
            continue
        module = importlib.import_module(f"bench.{info.name}")
        if callable(getattr(module, "run", None)):
            found[info.name] = (module.__doc__ or "").strip().split("\n", 1)[0]
    return found


def common_parser(**kwargs: Any) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", **kwargs)
    parser.add_argument("name", nargs="?", help="benchmark module in bench/ (see --list)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first (default 2)")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections (default 64)")
    parser.add_argument(
        "--max-requests", type=int, default=None, help="stop after this many requests (hard cap 1e6)"
    )
    parser.add_argument(
        "--no-pin", action="store_true", help="don't pin server and load generator to separate cores"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    return parser


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    first, _ = common_parser(add_help=False).parse_known_args(argv)
    if first.list:
        for name, summary in sorted(benchmarks().items()):
            print(f"{name:20} {summary}")
        return 0
    if not first.name:
        common_parser().print_help(sys.stderr)
        return 2
    if first.name.startswith("_") or first.name in NOT_BENCHMARKS:
        print(f"{first.name} is not a benchmark; see --list", file=sys.stderr)
        return 2
    try:
        module: ModuleType = importlib.import_module(f"bench.{first.name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"bench.{first.name}":
            raise
        print(f"no benchmark named {first.name!r}; see --list", file=sys.stderr)
        return 2
    parser = common_parser(description=module.__doc__)
    if hasattr(module, "add_arguments"):
        module.add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    with contextlib.redirect_stdout(sys.stderr):
        figures = module.run(args)
    if "bench" not in figures:
        figures = result(first.name, **figures)
    sys.stdout.write(json.dumps(_json_safe(figures), ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

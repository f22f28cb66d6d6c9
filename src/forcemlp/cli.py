"""The command line: ``python -m forcemlp train | data | bench``.

    python -m forcemlp train --framework torch --epochs 5 --json
    python -m forcemlp train --fast --run-cache _build/runs
    python -m forcemlp data --dataset fashion-mnist
    python -m forcemlp bench --epochs 1

Every error a user can cause, and every error the operating system reports (a folder that
cannot be read or written, a full disk), ends as one line on stderr and exit code 2, never
a traceback; a warning is one line too. Whatever is echoed (a path, a name) has its control
characters escaped, so it can neither forge a line nor act on the terminal. When the reader
of the output goes away (``| head``), forcemlp stops quietly with exit code 141, as a program
stopped by SIGPIPE does. With stderr closed or full, errors still end with exit code 2
(their text is never moved to stdout), and a training run still trains and reports on stdout.
``--json`` prints strict JSON: a number that is not finite is ``null``, and
``"not_finite"`` says which fields those were and what they held.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any, NoReturn

from .config import TrainConfig, whole_number
from .errors import ForceMLPError
from .fileio import fix_for, reason, shown

BROKEN_PIPE_EXIT = 128 + 13  # what a shell reports for a program ended by SIGPIPE


class OneLineParser(argparse.ArgumentParser):
    """argparse, but its complaints are one line that names the fix, like every other error."""

    def error(self, message: str) -> NoReturn:
        raise ForceMLPError(f"{message} (see '{self.prog} --help').")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="forcemlp", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    train = commands.add_parser("train", help="train an MLP and evaluate it on the test set")
    train.add_argument("--framework", default="torch",
                       help="torch, keras, numpy, tensorflow (the GradientTape loop) or fastai")
    train.add_argument("--style", default="sequential", help="sequential or functional")
    train.add_argument("--hidden", type=int, nargs="*", default=[16], metavar="SIZE",
                       help="hidden layer sizes, e.g. --hidden 784 16")
    train.add_argument("--activation", default="relu")
    train.add_argument("--optimizer", default="adam")
    train.add_argument("--lr", type=float, default=1e-3, help="learning rate")
    train.add_argument("--epochs", type=int, default=5)
    train.add_argument("--batch-size", type=int, default=20)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--dataset", default="mnist", help="mnist or fashion-mnist")
    train.add_argument("--data-dir", default=None, help="folder holding the four IDX .gz files")
    train.add_argument("--device", default="auto", help="auto, cpu or cuda")
    train.add_argument("--train-size", type=int, default=None,
                       help="use only the first N training images (quick runs)")
    train.add_argument("--dropout", type=float, default=0.0)
    train.add_argument("--lr-schedule", default="constant",
                       help="constant, cosine (shrinks the rate towards 0 by the last step),"
                       " or one_cycle (fastai's fit_one_cycle, framework fastai only)")
    train.add_argument("--fast", action="store_true",
                       help="PyTorch's NumPy fast path (plain stacks, Adam, CPU; see the docs)")
    train.add_argument("--run-cache", default=None, metavar="DIR",
                       help="reuse this exact run from DIR if it is there, else store it there")
    train.add_argument("--json", action="store_true", help="end with one JSON line of results")
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    data = commands.add_parser("data", help="show where the data is and verify every file")
    data.add_argument("--dataset", default="mnist")
    data.add_argument("--data-dir", default=None)

    bench = commands.add_parser("bench", help="seed-style DataLoader loop vs forcemlp's trainer")
    bench.add_argument("--epochs", type=int, default=1)
    bench.add_argument("--data-dir", default=None)
    bench.add_argument("--json", action="store_true")
    return parser


def command_train(args: argparse.Namespace) -> None:
    from .runner import run

    config = TrainConfig(
        framework=args.framework, style=args.style, hidden_sizes=tuple(args.hidden),
        activation=args.activation, optimizer=args.optimizer, learning_rate=args.lr,
        epochs=args.epochs, batch_size=args.batch_size, seed=args.seed, dataset=args.dataset,
        device=args.device, train_size=args.train_size, dropout=args.dropout,
        lr_schedule=args.lr_schedule, fast=args.fast,
    )
    cache = args.run_cache if args.run_cache is not None else False
    progress = not args.quiet and sys.stderr is not None  # closed: train without the bar
    result = run(config, data_dir=args.data_dir, progress=progress, cache=cache)
    print("epoch  train_loss  train_acc  val_loss  val_acc  seconds")
    for epoch in result.history.epochs:
        print(f"{epoch.epoch:>5}  {epoch.train_loss:10.4f}  {epoch.train_accuracy:9.4f}"
              f"  {epoch.val_loss:8.4f}  {epoch.val_accuracy:7.4f}  {epoch.seconds:7.2f}")
    print(f"best epoch {result.history.best_epoch}; test accuracy {result.test.accuracy:.4f}"
          f" ({result.test.correct}/{len(result.test.labels)}), test loss {result.test.loss:.4f},"
          f" {result.samples_per_second:,.0f} samples/s")
    if args.json:
        print(strict_json(result.summary()))


def strict_json(record: dict[str, Any]) -> str:
    """``record`` as one line of strict JSON (RFC 8259): a non-finite number becomes ``null``
    and ``"not_finite"`` names each such field with what it held ("nan", "inf")."""
    not_finite = {
        name: str(value) for name, value in record.items()
        if isinstance(value, float) and not math.isfinite(value)
    }
    if not_finite:
        record = {**{name: None if name in not_finite else value
                     for name, value in record.items()}, "not_finite": not_finite}
    return json.dumps(record, allow_nan=False)


def command_data(args: argparse.Namespace) -> None:
    from .data import verify

    report = verify(args.dataset, args.data_dir)
    for path, status in report:
        print(f"{status if status == 'ok' else 'FAILED'}  {shown(path)}")
    failures = [status for _, status in report if status != "ok"]
    if failures:
        raise ForceMLPError(failures[0])


def command_bench(args: argparse.Namespace) -> None:
    whole_number("--epochs", args.epochs)
    from .bench import format_benchmark, run_benchmark

    result = run_benchmark(epochs=args.epochs, data_dir=args.data_dir)
    print(format_benchmark(result))
    if args.json:
        print(strict_json(result))


COMMANDS = {"train": command_train, "data": command_data, "bench": command_bench}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the exit code (2 for any error the user can fix)."""
    stderr = sys.stderr
    if stderr is None:  # started with descriptor 2 closed: keep files the program opens off it
        _hold_closed_descriptor(2)
    else:
        sys.stderr = ForgivingStream(stderr)
    try:
        if sys.stdout is None:  # started with file descriptor 1 closed
            return _error("standard output is closed: redirect it, e.g. > results.txt or"
                          " > /dev/null")
        return _run_command(argv)
    finally:
        sys.stderr = stderr


def _hold_closed_descriptor(descriptor: int) -> None:
    """Open /dev/null on a closed standard descriptor, so no file opened later takes its
    number and receives what libraries write to it."""
    try:
        opened = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    if opened != descriptor:
        os.close(opened)


def _run_command(argv: Sequence[str] | None) -> int:
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warning_in_one_line
            args = build_parser().parse_args(argv)
            COMMANDS[args.command](args)
            sys.stdout.flush()
    except ForceMLPError as error:
        return _error(str(error))
    except BrokenPipeError:
        _discard_pending_output()
        return BROKEN_PIPE_EXIT
    except OSError as error:  # reading or writing failed below forcemlp's own checks
        _discard_pending_output()
        where = error.filename or "the output"
        return _error(f"{where}: {reason(error)}; {fix_for(error)}")
    except KeyboardInterrupt:
        _to_stderr("forcemlp: interrupted")
        return 130
    return 0


def _error(message: str) -> int:
    _to_stderr(f"forcemlp: error: {message}")
    return 2


def _warning_in_one_line(message, category, filename, lineno, file=None, line=None) -> None:
    _to_stderr(f"forcemlp: warning: {message}")


def _to_stderr(line: str) -> None:
    """One escaped line on stderr, or nothing when stderr is closed: never on stdout
    (``print(file=None)`` would write there)."""
    if sys.stderr is not None:
        sys.stderr.write(shown(line) + "\n")
        sys.stderr.flush()


class ForgivingStream:
    """stderr that cannot fail: once a write or flush is refused (a full device, a closed
    pipe), the descriptor is pointed at /dev/null and the rest is dropped, so a progress bar
    or a message never turns a good run, or an error's exit code 2, into a crash."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._guarded(self._stream.write, text)
        return len(text)

    def flush(self) -> None:
        self._guarded(self._stream.flush)

    def _guarded(self, action: Any, *arguments: Any) -> None:
        try:
            action(*arguments)
        except (OSError, ValueError):  # full, closed, or a reader that left
            _silence(self._stream)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _silence(stream: Any) -> None:
    """Point ``stream``'s descriptor at /dev/null, so Python's final flush of what it could
    not write adds no message and no exit code of its own."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (a test's capture)
        pass


def _discard_pending_output() -> None:
    """Point stdout at /dev/null, so Python's final flush of what could not be written
    adds no second message at exit."""
    try:
        sys.stdout.flush()
    except OSError:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError):  # not a real file (a test's capture): nothing to flush
            pass

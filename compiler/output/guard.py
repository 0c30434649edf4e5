"""Limits for running untrusted work in-process (the template sandbox): a wall-clock deadline
and a cap on how much memory it may add. No IO; no state outside the `limited` block.

* The deadline is a real-time interval timer (SIGALRM) whose handler raises `TimeLimit`
  inside whatever Python code runs, so a loop that never ends is stopped at its line. It is
  armed only in the main thread (where the CLI always runs); another thread's work runs
  without a deadline. A timer or handler set by the caller is restored afterwards.
* The memory cap lowers the address-space limit (RLIMIT_AS) to what the process uses now plus
  `memory_bytes` for the duration of the block, so an allocation beyond it fails with
  MemoryError instead of exhausting the machine. Linux only (it reads /proc/self/statm);
  elsewhere the block runs uncapped.
"""

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType


class TimeLimit(Exception):
    """The deadline of a `limited` block passed."""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise TimeLimit


@contextlib.contextmanager
def limited(seconds: float, memory_bytes: int) -> Iterator[None]:
    """Run the block with a deadline and a memory cap.

    Raises:
        TimeLimit: the block ran longer than `seconds` (main thread only).
        MemoryError: the block tried to use more than `memory_bytes` more than at its start.
    """
    with deadline(seconds), _memory_cap(memory_bytes):
        yield


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise TimeLimit inside the block once `seconds` have passed (main thread only)."""
    in_main = threading.current_thread() is threading.main_thread()
    if not hasattr(signal, "setitimer") or not in_main:
        yield
        return
    started = time.monotonic()
    previous_handler = signal.signal(signal.SIGALRM, _on_alarm)
    previous_delay, previous_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay > 0:
            left = max(previous_delay - (time.monotonic() - started), 0.001)
            signal.setitimer(signal.ITIMER_REAL, left, previous_interval)


def _address_space() -> int | None:
    """Bytes of address space the process uses now (Linux), else None."""
    try:
        with open("/proc/self/statm", encoding="ascii") as stream:
            pages = int(stream.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


def _loosest(soft: int, wanted: int, hard: int, infinite: int) -> bool:
    """True when `wanted` is tighter than the soft limit and allowed by the hard one."""
    return (soft == infinite or soft > wanted) and (hard == infinite or hard >= wanted)


@contextlib.contextmanager
def _memory_cap(memory_bytes: int) -> Iterator[None]:
    try:
        import resource  # noqa: PLC0415 (POSIX only)
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    used = _address_space()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if used is None or not _loosest(soft, used + memory_bytes, hard, resource.RLIM_INFINITY):
        yield  # unknown, or already capped tighter: leave the limit alone
        return
    wanted = used + memory_bytes
    try:
        resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    except (ValueError, OSError):  # a platform that does not lower it (macOS): run uncapped
        yield
        return
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))

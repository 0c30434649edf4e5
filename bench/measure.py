"""Whole-process measurements for the benchmark: wall time and peak memory of one command, the
median of several runs, and the machine they ran on.

Each command runs as its own process under a small launcher (LAUNCHER below) that reports what
`/usr/bin/time` would: wall time, peak RSS (`ru_maxrss` of RUSAGE_CHILDREN: the command's own
peak, its waited-for children included; never below the launcher's ~8 MB) and CPU time, with
no psutil. A run past its timeout is killed with its process group and counted as such.
"""

import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Run:
    """One process: wall seconds, peak RSS in MB, CPU seconds (user + system), exit code
    (None: killed at the timeout)."""

    seconds: float
    peak_mb: float
    cpu: float
    code: int | None


@dataclass(frozen=True, slots=True)
class Figure:
    """The median of several runs of one command (`timed_out`: a run hit the timeout)."""

    seconds: float
    peak_mb: float
    cpu: float
    runs: int
    timed_out: bool = False


@dataclass(frozen=True, slots=True)
class Command:
    """A command to measure: where it runs, the exit codes that are fine, its environment."""

    argv: Sequence[str]
    cwd: Path
    ok_codes: tuple[int, ...] = (0,)
    env: Mapping[str, str] | None = None


class CommandFailed(RuntimeError):
    """A measured command exited with a code the benchmark does not expect."""


# The launcher: a bare interpreter (about 8 MB) that spawns the command, waits for it and
# reports wall time, peak RSS and CPU time of its only child (`/usr/bin/time` in Python). Run
# from the benchmark itself, the command would count the benchmark's own memory as its peak:
# a spawned child starts as a copy of its parent, and ru_maxrss keeps that high-water mark.
LAUNCHER = """
import os, resource, sys, time
argv = sys.argv[2:]
started = time.perf_counter()
pid = os.posix_spawnp(argv[0], argv, os.environ)
_, status = os.waitpid(pid, 0)
seconds = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = usage.ru_utime + usage.ru_stime
with open(sys.argv[1], "w") as report:
    report.write(f"{seconds} {usage.ru_maxrss} {cpu} {os.waitstatus_to_exitcode(status)}")
"""


def run_once(
    argv: Sequence[str],
    cwd: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
) -> tuple[Run, str]:
    """Run `argv` in `cwd` through the launcher; the measurement and the tail of its stderr."""
    with tempfile.TemporaryDirectory(prefix="clawpolicy-run-") as temp:
        report, err_path = Path(temp) / "report", Path(temp) / "stderr"
        launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(report), *argv]
        with open(os.devnull, "wb") as out, open(err_path, "wb") as err:
            child = subprocess.Popen(
                launcher, cwd=cwd, stdout=out, stderr=err, env=env, start_new_session=True
            )
            try:
                child.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)  # the launcher and the command
                child.wait()
                return Run(timeout, 0.0, timeout, None), ""
        tail = err_path.read_bytes()[-4000:].decode("utf-8", "replace")
        if child.returncode != 0 or not report.is_file():
            return Run(0.0, 0.0, 0.0, child.returncode or -1), tail
        wall, peak_kb, cpu, code = report.read_text(encoding="utf-8").split()
    return Run(float(wall), int(peak_kb) / 1024, float(cpu), int(code)), tail


def measure(
    command: Command,
    runs: int,
    timeout: float,
    before_each: Callable[[], None] | None = None,
) -> Figure:
    """The median of `runs` runs of `command` (after `before_each()`, untimed, when given).

    A run that times out ends the series (the figure is then a lower bound); an exit code
    outside the command's `ok_codes` raises CommandFailed with its stderr.
    """
    done: list[Run] = []
    for _ in range(runs):
        if before_each is not None:
            before_each()
        run = _checked_run(command, timeout)
        if run.code is None:
            return Figure(timeout, run.peak_mb, run.cpu, len(done) + 1, timed_out=True)
        done.append(run)
    return _median(done)


def measure_interleaved(
    commands: Mapping[str, Command], rounds: int, timeout: float
) -> dict[str, Figure]:
    """Medians of quick commands run in turns (a, b, c, a, b, c, ...), so that a change in the
    machine's load while they run shifts all of them alike: for figures compared with each
    other, such as `--help` against a bare click app."""
    done: dict[str, list[Run]] = {key: [] for key in commands}
    for _ in range(rounds):
        for key, command in commands.items():
            done[key].append(_checked_run(command, timeout))
    return {key: _median(runs) for key, runs in done.items()}


def _checked_run(command: Command, timeout: float) -> Run:
    run, stderr = run_once(command.argv, command.cwd, timeout, command.env)
    if run.code is not None and run.code not in command.ok_codes:
        argv = " ".join(command.argv)
        raise CommandFailed(f"{argv} exited {run.code} in {command.cwd}:\n{stderr}")
    return run


def _median(done: Sequence[Run]) -> Figure:
    return Figure(
        statistics.median(r.seconds for r in done),
        statistics.median(r.peak_mb for r in done),
        statistics.median(r.cpu for r in done),
        len(done),
        timed_out=any(r.code is None for r in done),
    )


def machine() -> dict[str, str]:
    """CPU, cores, RAM, Python, OS, date and load: what RESULTS.md says the figures ran on."""
    cpu = _first_line_value(Path("/proc/cpuinfo"), "model name") or platform.processor() or "?"
    kilobytes = _first_line_value(Path("/proc/meminfo"), "MemTotal")
    ram = f"{int(kilobytes.split()[0]) / 1024**2:.1f} GB" if kilobytes else "?"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "CPU": cpu,
        "cores": f"{os.cpu_count()} ({usable} usable by this process)",
        "RAM": ram,
        "Python": f"{platform.python_version()} ({platform.python_implementation()})",
        "OS": f"{platform.system()} {platform.release()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (a shared machine makes every figure slower)."""
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def _first_line_value(path: Path, key: str) -> str | None:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == key:
            return value.strip()
    return None

"""SIGINT and SIGTERM at any moment of a build: one line, exit 128+n, no process left behind.

Kernels run in sessions of their own (a forked kernel calls ``setsid``, jupyter_client starts
a plain one with ``start_new_session``), so a Ctrl-C at the terminal reaches make and the
runner but never them; and multiprocessing's exit handler waits for every forked kernel still
alive. So the runner takes both signals from its first line (``catch``), ends every process
it started whatever it was doing (``end_descendants``: kernels, their children and the fork
server), and says what the signal stopped. Where stopping at once would leave a record half
written (the notebooks' event loop, outputs being moved into place, the manifest), the signal
is only noted (``deferred``) and acted on once that step is over; elsewhere it is raised at
once, as ``KeyboardInterrupt`` would be. A second signal ends the processes and exits at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM)
COMMIT_WAIT_S = 5.0
"""How long a second signal waits for outputs being moved into place (milliseconds of work)."""


class BuildInterrupted(BaseException):  # noqa: N818 - named for what the user sees
    """SIGINT or SIGTERM arrived. A ``BaseException``, as ``KeyboardInterrupt`` is, so no
    handler of ordinary errors takes it for a notebook's or the paper's failure."""

    def __init__(self, signum: int, doing: str) -> None:
        self.signum = signum
        super().__init__(f"interrupted by {signal.Signals(signum).name} while running {doing}")


class _State:
    """The process's one record of signals (a plain class: the command imports this module
    before anything else, and dataclasses costs tens of milliseconds of imports)."""

    signum: int | None = None
    doing = "the build's set-up (no notebook started)"
    """What a signal arriving now stops (``doing`` changes it)."""
    stopped = ""
    """What the first signal stopped."""
    on_signal: Callable[[], str] | None = None
    """While a signal is deferred: what to do at once; returns what it stopped."""
    since = time.time()
    commit = threading.Lock()


_state = _State()


def catch() -> None:
    """Take SIGINT and SIGTERM from now on (the runner's first lines block them until this
    module is imported; one that came meanwhile is acted on here)."""
    _state.since = time.time()
    _adopt_orphans()
    for signum in SIGNALS:
        signal.signal(signum, _on_signal)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)


def _adopt_orphans() -> None:
    """On Linux, be the "child subreaper" of everything the build starts: a kernel whose
    parent (the fork server) is gone becomes this process's child, not init's, so it is
    still found among the descendants, and reaped (init in a container may never reap it)."""
    if sys.platform != "linux":
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _on_signal(signum: int, frame: object) -> None:  # noqa: ARG001 - a handler's signature
    if _state.signum is not None:
        _exit_now()
    _state.signum = signum
    _state.stopped = _state.doing
    if _state.on_signal is None:
        raise BuildInterrupted(signum, _state.stopped)
    _state.stopped = _state.on_signal()


def _exit_now() -> None:
    """A second signal: let outputs being moved finish, end every process, say so, exit."""
    os.write(2, f"  {signal.Signals(_state.signum).name} again: "
                "ending every process of the build now\n".encode())
    if _state.commit.acquire(timeout=COMMIT_WAIT_S):
        _state.commit.release()
    end_descendants()
    os.write(2, f"build {BuildInterrupted(_state.signum, _state.stopped)}\n".encode())
    os._exit(128 + _state.signum)


def raise_if_signalled() -> None:
    """Once a deferred step is over: raise the signal that arrived during it."""
    if _state.signum is not None:
        raise BuildInterrupted(_state.signum, _state.stopped)


@contextlib.contextmanager
def doing(what: str) -> Iterator[None]:
    """Name what a signal arriving in this block stops (``the paper``)."""
    before, _state.doing = _state.doing, what
    try:
        yield
    finally:
        _state.doing = before


@contextlib.contextmanager
def deferred(on_signal: Callable[[], str]) -> Iterator[None]:
    """A block a signal must not cut short: it calls ``on_signal`` (which stops what can be
    stopped and names it) and the block carries on; ``raise_if_signalled`` acts on it after.
    Handlers are installed for the block if the process has none of its own (``build()``
    called from Python rather than the command)."""
    own = signal.getsignal(signal.SIGINT) is not _on_signal
    previous = {s: signal.signal(s, _on_signal) for s in SIGNALS} if own else {}
    before, _state.on_signal = _state.on_signal, on_signal
    try:
        yield
    finally:
        _state.on_signal = before
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def quiet(what: str) -> contextlib.AbstractContextManager[None]:
    """A short step (a record written) during which a signal is noted, not raised."""
    return deferred(lambda: what)


@contextlib.contextmanager
def committing() -> Iterator[None]:
    """Outputs being moved into place: a second signal waits (a moment) for the move."""
    with _state.commit:
        yield


def end_descendants() -> None:
    """Kill every process this one started since ``catch`` and every process those started
    (forked kernels are the fork server's children, in sessions of their own). Each is
    stopped first and the tree read again until nothing new appears, so no process forks a
    new one between the reading and the killing."""
    import psutil

    me = psutil.Process()
    stopped: dict[int, psutil.Process] = {}
    for _ in range(100):
        try:
            found = [p for p in me.children(recursive=True) if p.pid not in stopped]
        except psutil.Error:
            break
        found = [p for p in found if _started_since(p)]
        if not found:
            break
        for process in found:
            with contextlib.suppress(psutil.Error):
                process.suspend()
            stopped[process.pid] = process
    for process in stopped.values():
        with contextlib.suppress(psutil.Error):
            process.kill()
    deadline = time.monotonic() + 5
    while stopped and time.monotonic() < deadline:
        _, alive = psutil.wait_procs(list(stopped.values()), timeout=0.05)
        stopped = {p.pid: p for p in alive if not _zombie(p)}


def _zombie(process: object) -> bool:
    """A killed process that another parent has yet to reap: gone in all but name."""
    import psutil

    try:
        return process.status() == psutil.STATUS_ZOMBIE  # type: ignore[attr-defined]
    except psutil.Error:
        return True


def _started_since(process: object) -> bool:
    """Whether ``process`` started after this build did (called from Python, a build leaves
    the caller's other children alone)."""
    try:
        return process.create_time() >= _state.since - 1.0  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - gone already: nothing to kill
        return False


def main(run: Callable[[], int]) -> int:
    """The command's exit status: ``run``'s, or 128+n after signal n (the one line said);
    no process of the build outlives it. (``run`` may have said the line itself and returned
    128+n.)"""
    try:
        try:
            status = run()
        finally:
            with quiet("the build's clean-up"):
                end_descendants()
                for signum in SIGNALS:  # exiting now: a later signal changes nothing
                    signal.signal(signum, signal.SIG_IGN)
        if status < 128:
            raise_if_signalled()
    except BuildInterrupted as exc:
        print(f"build {exc}", file=sys.stderr, flush=True)
        return 128 + exc.signum
    return status

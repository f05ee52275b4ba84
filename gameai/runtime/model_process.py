"""The behaviour model in a child process, so that inference never waits for the server's GIL.

In the server's own interpreter the behaviour worker thread needs the GIL back after each of
its ~100 torch calls per batch while the event loop holds it much of the time, so a batch
takes longer there than alone and the model thread bounds the server (the measurements:
docs/log/behaviour.md). A child process has an interpreter of its own.

:class:`BehaviourProcess` is a batch function like
:class:`~gameai.runtime.models.BehaviourClassifier`: a behaviour
:class:`~gameai.runtime.batching.BatchingWorker` thread calls it with a batch, it writes the
frames the child has not encoded yet into shared memory, sends the child a short message and
blocks (without the GIL) until the probabilities come back. Two batches may be in flight
(two worker threads, two slots of shared memory), so the child starts the next batch as soon
as it has answered one. The child (``python -m gameai.runtime.model_process``) keeps every
session's frame encodings; the parent keeps which frame each session's encodings reach, and
tells the child to forget a session once its :class:`~gameai.runtime.models.FrameEncodingCache`
is gone.

If the child dies, the batches in flight fail with :class:`ModelProcessError` (each session
gets a typed error for those frames) and the next batch starts a new child, which encodes
whole windows again. The child ignores SIGINT and SIGTERM: the server's graceful shutdown
finishes the queued batches, then closes the socket, and the child exits on end of file.

Messages on the socket pair (private to this module: both ends are its code), each one
:meth:`multiprocessing.connection.Connection.send_bytes`:

* parent -> child, one per batch: ``int64`` request count ``n``, forgotten count ``f`` and
  shared-memory slot; ``f`` ``int64`` cache keys to drop; ``n`` rows of ``int64`` (cache key
  or -1, last frame number, fresh frame count ``c``). The fresh frames, ``uint8``
  ``(H, W, 3)`` each, request by request and oldest first, fill the slot from its start
  (``c = K`` for every request of a model that does not encode frames one by one).
* child -> parent, in the order of the batches: ``b"R"`` and ``float32`` ``(n, classes)``
  probabilities, or ``b"E"`` and a UTF-8 reason (the child then drops all its encodings).
  On start: ``b"R"`` once loaded, or ``b"E"`` and the reason.
"""

from __future__ import annotations

import argparse
import collections
import logging
import mmap
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Final

import numpy as np

from gameai.behaviour.model import BehaviourNetConfig
from gameai.observability.logs import configure_logging, current_logging
from gameai.runtime import heap
from gameai.runtime.device import HEAD_PRECISIONS
from gameai.runtime.models import FrameEncodingCache, WindowRequest, fresh_frame_counts

logger = logging.getLogger("gameai.runtime.model_process")  # also when run as __main__ (the child)

START_TIMEOUT_S: Final = 120.0
"""How long a child may take to import torch and load the model before it counts as failed."""
RESTART_PAUSE_S: Final = 5.0
"""After a child fails to start, batches fail at once for this long instead of starting another."""
SLOTS: Final = 2
"""Batches in flight to the child (each has its own slot of shared memory)."""

_OK: Final = b"R"
_ERROR: Final = b"E"


class ModelProcessError(Exception):
    """The model process failed on a batch, died, or could not start."""


def process_workers_supported() -> bool:
    """Whether models can run in a child process here (POSIX: descriptors are passed to the child)."""
    return os.name == "posix"


def _shared_file(size: int) -> int:
    """A descriptor of ``size`` bytes of anonymous memory a child can map (memfd on Linux)."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("gameai-behaviour-frames")
    else:
        with tempfile.TemporaryFile() as file:
            fd = os.dup(file.fileno())
    os.ftruncate(fd, size)
    return fd


@dataclass
class _InFlight:
    """A batch sent to the child, waiting for its reply."""

    done: threading.Event = field(default_factory=threading.Event)
    reply: bytes | None = None
    error: str | None = None


class BehaviourProcess:
    """Runs a behaviour model in a child process; called by worker threads with batches.

    Calling order: construct (starts the child, does not wait for it), :meth:`wait_ready`
    (optional: the first batch waits otherwise), call with batches from up to :data:`SLOTS`
    threads, :meth:`close`.

    Args:
        model_dir: The behaviour model directory (already checked to load in this process).
        config: Its configuration.
        device: Where the child runs the model (``cpu``, ``cuda``, ``cuda:N``).
        torch_threads: The child's torch threads (0: torch's default).
        max_batch: Most windows in one batch (sizes the shared memory: K frames each).
        on_exit: Called (from the reply thread) each time a ready child exits unasked.
        head_precision: The heads' number type in the child
            (:class:`~gameai.runtime.models.BehaviourClassifier`'s ``head_precision``).
    """

    def __init__(
        self,
        model_dir: Path,
        config: BehaviourNetConfig,
        device: str,
        torch_threads: int,
        max_batch: int,
        on_exit: Callable[[], None] | None = None,
        head_precision: str = "auto",
    ) -> None:
        self.model_dir = model_dir
        self.head_precision = head_precision
        self.config = config
        self.device = device
        self.torch_threads = torch_threads
        self._on_exit = on_exit
        self.encodes_frames = config.architecture == "keypoints"
        height, width = config.frame_size
        self._max_frames = max_batch * config.frames_per_window
        size = SLOTS * self._max_frames * height * width * config.channels
        self._shm_fd = _shared_file(size)
        self._shm = mmap.mmap(self._shm_fd, size)
        self._slots = np.frombuffer(self._shm, dtype=np.uint8).reshape(
            SLOTS, self._max_frames, height, width, config.channels
        )
        self._conn: Connection | None = None
        self._child: subprocess.Popen[bytes] | None = None
        self._receiver: threading.Thread | None = None
        self._ready = False
        self._failed_start_at = -float("inf")
        self._sent = 0  # batches sent to any child: batch i uses slot i % SLOTS
        self._in_flight: collections.deque[_InFlight] = collections.deque()
        self._slot_free = threading.BoundedSemaphore(SLOTS)
        self._held: dict[int, int] = {}  # cache key -> newest frame the child holds encodings up to
        self._watched: set[int] = set()  # cache keys with a finaliser that reports them gone
        self._forgotten: list[int] = []  # keys whose cache is gone (appended by finalisers, any thread)
        self._lock = threading.Lock()  # guards sending, starting and ending children
        self._closed = False
        try:
            self._spawn()
        except OSError:
            os.close(self._shm_fd)
            raise

    # ------------------------------------------------------------------ child lifetime

    def _spawn(self) -> None:
        log_format, log_level = current_logging()
        parent_end, child_end = socket.socketpair()
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH", "")]))
        command = [
            sys.executable, "-m", "gameai.runtime.model_process",
            "--fd", str(child_end.fileno()),
            "--shm-fd", str(self._shm_fd),
            "--max-frames", str(self._max_frames),
            "--model-dir", str(self.model_dir),
            "--device", self.device,
            "--torch-threads", str(self.torch_threads),
            "--head-precision", self.head_precision,
            "--log-format", log_format, "--log-level", log_level,
        ]  # fmt: skip
        try:
            self._child = subprocess.Popen(command, pass_fds=(child_end.fileno(), self._shm_fd), env=env)
        finally:
            child_end.close()
        self._conn = Connection(parent_end.detach())
        self._ready = False
        self._held.clear()
        logger.info(
            "behaviour model process %d starting (%s on %s)", self._child.pid, self.model_dir, self.device
        )

    def wait_ready(self) -> None:
        """Block until the child has loaded the model (it is started by the constructor).

        Raises:
            ModelProcessError: If it exited or did not report ready within ``START_TIMEOUT_S``.
        """
        with self._lock:
            self._ensure_started()

    def _await_ready(self) -> None:
        conn, child = self._conn, self._child
        assert conn is not None and child is not None
        try:
            if not conn.poll(START_TIMEOUT_S):
                raise ModelProcessError(
                    f"behaviour model process did not start within {START_TIMEOUT_S:.0f} s"
                )
            reply = conn.recv_bytes()
        except (OSError, EOFError) as exc:
            raise ModelProcessError(
                f"behaviour model process exited while starting (exit code {child.poll()})"
            ) from exc
        if reply[:1] != _OK:
            raise ModelProcessError(
                f"behaviour model process could not start: {reply[1:].decode(errors='replace')}"
            )
        self._ready = True
        self._receiver = threading.Thread(
            target=_receive_replies,
            args=(weakref.ref(self), conn, child),
            name="gameai-behaviour-replies",
            daemon=True,
        )
        self._receiver.start()
        # Never stopped (a runtime loaded and dropped): end the child when this object goes.
        weakref.finalize(self, _end_child, conn, child)
        logger.info("behaviour model process %d ready", child.pid)

    def _ensure_started(self) -> None:
        """Start a child if none runs and wait until it is ready (call holding ``_lock``)."""
        if self._closed:
            raise ModelProcessError("behaviour model process is closed")
        if self._conn is None:
            if time.monotonic() - self._failed_start_at < RESTART_PAUSE_S:
                raise ModelProcessError("behaviour model process failed to start moments ago")
            self._spawn()
        if not self._ready:
            try:
                self._await_ready()
            except ModelProcessError:
                self._failed_start_at = time.monotonic()
                self._discard_child()
                raise

    def _discard_child(self) -> None:
        """Forget the child (call holding ``_lock``): close the socket, reap it or kill it."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        child, self._child = self._child, None
        self._ready = False
        self._held.clear()
        if child is not None:
            try:
                child.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    def close(self) -> None:
        """End the child (after the batches in flight) and release the shared memory."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            conn, receiver = self._conn, self._receiver
            if conn is not None and receiver is not None and receiver.is_alive():
                # The child exits once it has answered what it was sent and sees the socket's end.
                _shut_socket(conn, socket.SHUT_WR)
        if receiver is not None:
            receiver.join(timeout=30.0)  # it takes the lock to discard the child
        with self._lock:
            self._discard_child()
            os.close(self._shm_fd)

    @property
    def starting(self) -> bool:
        """Whether no child is ready to answer (one is starting, or starts with the next batch):
        the time a batch waits for a start does not count against a worker's deadline."""
        return not self._ready and not self._closed

    def kill(self) -> None:
        """Kill the child now (one that stopped answering): the batches it owed fail, and the next
        batch starts another. Safe from any thread."""
        child = self._child
        if child is not None and child.poll() is None:
            logger.warning("behaviour model process %d stopped answering; killing it", child.pid)
            child.kill()

    @property
    def pid(self) -> int | None:
        """The child's process id (None when no child is running)."""
        return self._child.pid if self._child is not None else None

    # ------------------------------------------------------------------ batches

    def _forget(self, key: int) -> None:
        self._forgotten.append(key)  # list.append is atomic: finalisers run on any thread

    def _take_reply(self, reply: bytes) -> None:
        batch = self._in_flight.popleft()
        batch.reply = reply
        batch.done.set()

    def _child_gone(self, conn: Connection, child: subprocess.Popen[bytes]) -> None:
        """Fail what the child still owed, and forget it if it is still the current one."""
        with self._lock:
            if self._conn is conn:
                self._discard_child()
            code = child.poll()
            if not self._closed:
                logger.warning(
                    "behaviour model process %d exited (code %s); the next batch starts another",
                    child.pid,
                    code,
                )
                if self._on_exit is not None:
                    self._on_exit()
            while self._in_flight:
                batch = self._in_flight.popleft()
                batch.error = (
                    f"behaviour model process {child.pid} exited (code {code}); the next batch starts another"
                )
                batch.done.set()

    def __call__(self, requests: Sequence[WindowRequest]) -> list[np.ndarray]:
        """Classify windows of sessions in the child (the worker's batch function).

        Args:
            requests: One window each, each session's in order of ``last_frame``.

        Returns:
            One ``(n_classes,)`` float32 probability vector per request.

        Raises:
            ModelProcessError: If the child failed on the batch, died or could not start.
        """
        with self._slot_free:
            batch = self._send(requests)
            batch.done.wait()
        if batch.error is not None:
            raise ModelProcessError(batch.error)
        reply = batch.reply
        assert reply is not None
        if reply[:1] != _OK:
            with self._lock:
                self._held.clear()  # the child dropped every session's encodings
            raise ModelProcessError(
                f"behaviour model process failed on a batch: {reply[1:].decode(errors='replace')}"
            )
        n_classes = len(self.config.class_names)
        probabilities = np.frombuffer(reply, dtype=np.float32, offset=1).reshape(len(requests), n_classes)
        return list(probabilities)

    def _send(self, requests: Sequence[WindowRequest]) -> _InFlight:
        with self._lock:
            self._ensure_started()
            k = self.config.frames_per_window
            if self.encodes_frames:
                counts = fresh_frame_counts(requests, k, lambda cache: self._held.get(cache.key, -1))
            else:
                counts = [k] * len(requests)
            if sum(counts) > self._max_frames:
                raise ModelProcessError(
                    f"a batch of {len(requests)} windows is larger than the shared memory holds"
                )
            slot_index = self._sent % SLOTS
            slot = self._slots[slot_index]
            row = 0
            for request, count in zip(requests, counts, strict=True):
                window = request.window
                if isinstance(window, np.ndarray):
                    slot[row : row + count] = window[k - count :]
                else:
                    for i, frame in enumerate(window[k - count :]):
                        slot[row + i] = frame
                row += count
            forgotten, self._forgotten = self._forgotten, []
            for key in forgotten:
                self._held.pop(key, None)
                self._watched.discard(key)
            rows = np.array(
                [
                    (request.cache.key if request.cache is not None else -1, request.last_frame, count)
                    for request, count in zip(requests, counts, strict=True)
                ],
                dtype=np.int64,
            )  # (n, 3)
            header = np.array([len(requests), len(forgotten), slot_index], dtype=np.int64)
            message = header.tobytes() + np.array(forgotten, dtype=np.int64).tobytes() + rows.tobytes()
            batch = _InFlight()
            assert self._conn is not None
            self._in_flight.append(batch)
            try:
                self._conn.send_bytes(message)
            except OSError as exc:  # the child died; its reply thread fails what it owed
                self._in_flight.remove(batch)
                raise ModelProcessError(f"behaviour model process is gone: {exc}") from exc
            self._sent += 1
            # The child applies batches in the order they are sent, so the next batch may
            # already count on these encodings (a failed batch makes the child drop them all).
            for request in requests:
                cache = request.cache
                if cache is None:
                    continue
                self._held[cache.key] = request.last_frame
                if cache.key not in self._watched:
                    self._watched.add(cache.key)
                    weakref.finalize(cache, self._forget, cache.key)
            return batch


def _shut_socket(conn: Connection, how: int) -> None:
    """Shut a connection's socket down (wakes a thread blocked reading it, unlike closing it)."""
    try:
        with socket.socket(fileno=os.dup(conn.fileno())) as end:
            end.shutdown(how)
    except OSError:  # already closed
        pass


def _end_child(conn: Connection, child: subprocess.Popen[bytes]) -> None:
    """End a child whose :class:`BehaviourProcess` is gone without being closed."""
    _shut_socket(conn, socket.SHUT_RDWR)
    try:
        child.wait(timeout=5.0)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def _receive_replies(
    owner_ref: weakref.ReferenceType[BehaviourProcess], conn: Connection, child: subprocess.Popen[bytes]
) -> None:
    """Reply thread of one child: hands each reply to its batch, in order, until the socket ends.

    It holds its :class:`BehaviourProcess` only weakly, so that one dropped without
    :meth:`~BehaviourProcess.close` is still collected (and its finaliser ends the child).
    """
    while True:
        try:
            reply = conn.recv_bytes()
        except (OSError, EOFError):
            break
        owner = owner_ref()
        if owner is None:
            return
        if not owner._in_flight:  # a reply nobody waits for: the two ends disagree
            logger.error("behaviour model process %d sent a reply no batch waits for; ending it", child.pid)
            _shut_socket(conn, socket.SHUT_RDWR)
            break
        owner._take_reply(reply)
        del owner
    owner = owner_ref()
    if owner is not None:
        owner._child_gone(conn, child)


# ---------------------------------------------------------------------- the child


def _serve(
    conn: Connection, shm_fd: int, max_frames: int, model_dir: str, device: str, head_precision: str
) -> int:
    from gameai.behaviour.model import load_behaviour_model
    from gameai.model_files import ModelLoadError
    from gameai.runtime.models import BehaviourClassifier

    try:
        classifier = BehaviourClassifier(load_behaviour_model(model_dir, device), head_precision)
    except (ModelLoadError, OSError, ValueError, RuntimeError) as exc:
        conn.send_bytes(_ERROR + str(exc).encode())
        return 1
    config = classifier.config
    k = config.frames_per_window
    height, width = config.frame_size
    memory = mmap.mmap(shm_fd, SLOTS * max_frames * height * width * config.channels)
    slots = np.frombuffer(memory, dtype=np.uint8).reshape(SLOTS, max_frames, height, width, config.channels)
    caches: dict[int, FrameEncodingCache] = {}
    heap.freeze_startup_objects()
    conn.send_bytes(_OK)
    while True:
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):
            return 0  # the server closed the socket (or died): nothing more to do
        try:
            n, n_forgotten, slot = (int(v) for v in np.frombuffer(message, dtype=np.int64, count=3))
            for key in np.frombuffer(message, dtype=np.int64, count=n_forgotten, offset=24).tolist():
                caches.pop(key, None)
            rows = np.frombuffer(message, dtype=np.int64, offset=24 + 8 * n_forgotten).reshape(n, 3)
            counts = rows[:, 2].tolist()
            frames = slots[slot, : sum(counts)]  # (M, H, W, 3)
            if classifier.encodes_frames:
                requests = [
                    WindowRequest(
                        (), last, caches.setdefault(key, FrameEncodingCache()) if key >= 0 else None
                    )
                    for key, last, _ in rows.tolist()
                ]
                probabilities = classifier.classify_fresh(requests, counts, frames)
            else:
                probabilities = classifier.classify_windows(list(frames.reshape(n, k, *frames.shape[1:])))
            reply = _OK + np.stack(probabilities).astype(np.float32, copy=False).tobytes()
        except Exception as exc:  # the server decides what a failed batch means; the child carries on
            logger.error("behaviour model process failed on a batch", exc_info=True)
            caches.clear()
            reply = _ERROR + f"{type(exc).__name__}: {exc}".encode()
        conn.send_bytes(reply)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the child (started by :class:`BehaviourProcess`)."""
    parser = argparse.ArgumentParser(description="gameai behaviour model process (started by the server)")
    parser.add_argument("--fd", type=int, required=True, help="descriptor of this end of the socket pair")
    parser.add_argument("--shm-fd", type=int, required=True, help="descriptor of the shared frame memory")
    parser.add_argument("--max-frames", type=int, required=True, help="frames per slot of shared memory")
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--torch-threads", type=int, default=0)
    parser.add_argument("--head-precision", choices=HEAD_PRECISIONS, default="auto")
    parser.add_argument("--log-format", choices=("json", "text"), default="text")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    # The server owns this process's lifetime: Ctrl-C or a service manager's SIGTERM reaches the
    # whole process group, but queued batches must still finish during the graceful shutdown.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    configure_logging(args.log_format, args.log_level)  # as the server logs (session id "-")
    import torch

    if args.torch_threads > 0:
        torch.set_num_threads(args.torch_threads)
    return _serve(
        Connection(args.fd), args.shm_fd, args.max_frames, args.model_dir, args.device, args.head_precision
    )


if __name__ == "__main__":
    sys.exit(main())

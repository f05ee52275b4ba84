"""A split's ``.npz`` file, written and read a few frames at a time, so no split is held whole.

A recording's frames are most of its size: 200 minute-long players per style are 360,000
frames, 7.6 GB as arrays, but flat-coloured game frames compress well (about 12x frame by
frame at zlib level 1, 38x in the file). So
:class:`CompressedFrames` keeps each frame zlib-compressed from the moment it is captured,
:func:`write_npz` streams the frames into the file one by one, and
:func:`read_compressed_frames` reads them back the same way, a run of rows at a time. The file is
a plain ``np.savez_compressed``-style archive: ``np.load`` reads it too.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt
from numpy.lib import format as npy_format

#: Bytes read from a file at a time.
READ_BYTES = 1 << 24
#: Rows :func:`read_compressed_frames` reads at a time.
READ_ROWS = 4096
#: zlib level of each held frame (1: fast; the file itself is deflated again as npz members are).
FRAME_COMPRESSION_LEVEL = 1


class CompressedFrames:
    """``(count, *frame_shape)`` uint8 frames, each held zlib-compressed.

    Set one row at a time (``frames[row] = frame``), as the recorder captures them; read like
    an array (``frames[row]``, ``frames[a:b]``, ``frames[index_array]``: each frame asked for is
    decompressed into a new array). A row never set reads as zeros.
    """

    def __init__(self, count: int, frame_shape: tuple[int, ...]) -> None:
        self.shape = (count, *frame_shape)
        self.dtype = np.dtype(np.uint8)
        self._frame_bytes = int(np.prod(frame_shape))
        self._held: list[bytes | None] = [None] * count

    @classmethod
    def from_compressed(cls, held: list[bytes], frame_shape: tuple[int, ...]) -> CompressedFrames:
        """Frames already zlib-compressed one by one (as a behaviour dataset stores them), kept as they are.

        Args:
            held: Each frame's compressed bytes, in order.
            frame_shape: The shape of each frame once decompressed.
        """
        frames = cls(len(held), frame_shape)
        frames._held = list(held)
        return frames

    def __len__(self) -> int:
        return self.shape[0]

    def __setitem__(self, row: int, frame: npt.NDArray[np.uint8]) -> None:
        if frame.shape != self.shape[1:] or frame.dtype != self.dtype:
            raise ValueError(f"a frame must be {self.shape[1:]} uint8, got {frame.shape} {frame.dtype}")
        self._held[row] = zlib.compress(np.ascontiguousarray(frame).data, FRAME_COMPRESSION_LEVEL)

    def __getitem__(self, index: int | slice | npt.NDArray[np.integer]) -> npt.NDArray[np.uint8]:
        rows = np.arange(len(self))[index] if isinstance(index, slice) else np.asarray(index)
        out = np.empty((*rows.shape, *self.shape[1:]), dtype=np.uint8)
        flat = out.reshape(-1, *self.shape[1:])  # a view of out
        for i, row in enumerate(rows.reshape(-1).tolist()):
            held = self._held[row]  # (an IndexError past the end, as an array gives)
            if held is None:
                flat[i] = 0
            else:
                flat[i] = np.frombuffer(zlib.decompress(held), dtype=np.uint8).reshape(self.shape[1:])
        return out

    @property
    def held_bytes(self) -> int:
        """Bytes the compressed frames take."""
        return sum(len(held) for held in self._held if held is not None)


FrameArray = npt.NDArray[np.uint8] | CompressedFrames


def write_npz(path: Path, arrays: Mapping[str, FrameArray | np.ndarray], chunk_rows: int = 1024) -> None:
    """Write ``arrays`` as a compressed ``.npz`` at ``path``, a :class:`CompressedFrames` row by row.

    Args:
        path: The file (written in place; the caller renames a temporary one).
        arrays: Member name (without ``.npy``) -> array.
        chunk_rows: Rows of a :class:`CompressedFrames` decompressed at a time.
    """
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for name, value in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                if isinstance(value, CompressedFrames):
                    header = {
                        "descr": npy_format.dtype_to_descr(value.dtype),
                        "fortran_order": False,
                        "shape": value.shape,
                    }
                    npy_format.write_array_header_1_0(member, header)
                    for start in range(0, len(value), chunk_rows):
                        member.write(value[start : start + chunk_rows].data)
                else:
                    npy_format.write_array(member, np.asanyarray(value), allow_pickle=False)


def read_frame_rows(
    path: Path, runs: list[tuple[int, int]], member: str = "frames"
) -> Iterator[npt.NDArray[np.uint8]]:
    """Read runs of consecutive rows of one array of an ``.npz``, in order, one run at a time.

    Args:
        path: The ``.npz`` (as :func:`write_npz` or ``np.savez_compressed`` writes it).
        runs: ``(start, stop)`` row ranges, ascending and not overlapping.
        member: The array.

    Yields:
        ``(stop - start, ...)`` the rows of each run.

    Raises:
        ValueError: If the runs are not ascending or leave the array.
    """
    with zipfile.ZipFile(path) as archive, archive.open(f"{member}.npy") as stream:
        version = npy_format.read_magic(stream)
        if version == (1, 0):
            shape, fortran_order, dtype = npy_format.read_array_header_1_0(stream)
        else:
            shape, fortran_order, dtype = npy_format.read_array_header_2_0(stream)
        if fortran_order:
            raise ValueError(f"{path}: {member} is stored in Fortran order")
        row_bytes = int(np.prod(shape[1:])) * dtype.itemsize
        at = 0
        for start, stop in runs:
            if start < at or stop < start or stop > shape[0]:
                raise ValueError(f"rows {start}..{stop} out of order or outside {shape[0]} rows")
            skip = (start - at) * row_bytes
            while skip > 0:
                skipped = len(stream.read(min(skip, READ_BYTES)))
                if not skipped:
                    break
                skip -= skipped
            rows = np.empty((stop - start, *shape[1:]), dtype=dtype)
            into = rows.reshape(-1).view(np.uint8).data  # (a view: writes land in rows)
            filled = 0
            while filled < len(into):  # a piece at a time: no second copy of the run in memory
                piece = stream.read(min(len(into) - filled, READ_BYTES))
                if not piece:
                    raise ValueError(f"{path}: {member} ends before row {stop}")
                into[filled : filled + len(piece)] = piece
                filled += len(piece)
            at = stop
            yield rows


def read_compressed_frames(path: Path, count: int, member: str = "frames") -> CompressedFrames:
    """One ``(count, ...)`` uint8 array of an ``.npz`` as :class:`CompressedFrames`, read a run of
    rows at a time (never whole in memory)."""
    runs = [(start, min(start + READ_ROWS, count)) for start in range(0, count, READ_ROWS)]
    held: CompressedFrames | None = None
    for (start, _), rows in zip(runs, read_frame_rows(path, runs, member), strict=True):
        if held is None:
            held = CompressedFrames(count, rows.shape[1:])
        for i, frame in enumerate(rows):
            held[start + i] = frame
    return held if held is not None else CompressedFrames(0, (0, 0, 3))

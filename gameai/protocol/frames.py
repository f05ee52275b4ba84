"""Binary frame messages: a fixed 28-byte header followed by the pixel payload.

Layout (little-endian, no padding; ``struct`` format :data:`HEADER_FORMAT`)::

    offset  size  type     field
         0     4  bytes    magic           b"GAIF"
         4     1  uint8    version         1
         5     1  uint8    encoding        0 raw RGB, 1 PNG, 2 JPEG
         6     1  uint8    channels        3
         7     1  uint8    flags           0 (reserved)
         8     4  uint32   seq             frame sequence number (wraps at 2**32)
        12     8  float64  timestamp       client clock, seconds (finite), echoed in results
        20     2  uint16   width           pixels
        22     2  uint16   height          pixels
        24     4  uint32   payload_length  bytes after the header
        28     -  bytes    payload

A raw payload is ``height`` rows of ``width`` RGB pixels, top row first, so its length
must be ``width * height * 3``. :func:`parse_frame` checks every declared size against
the bytes actually received before anything is decoded; :func:`decode_frame_pixels`
decodes (PNG/JPEG through Pillow, checking the image against the header first).
"""

from __future__ import annotations

import enum
import io
import math
import re
import struct
from dataclasses import dataclass
from typing import Final

import numpy as np

from gameai.protocol.errors import ErrorCode, ProtocolError

MAGIC: Final = b"GAIF"
FRAME_VERSION: Final = 1
HEADER_FORMAT: Final = "<4sBBBBIdHHI"
HEADER = struct.Struct(HEADER_FORMAT)
HEADER_SIZE: Final = HEADER.size  # 28
CHANNELS: Final = 3
MAX_SEQ: Final = 2**32 - 1


class FrameEncoding(enum.IntEnum):
    """The header's encoding byte."""

    RAW = 0
    PNG = 1
    JPEG = 2

    @property
    def label(self) -> str:
        """The name used in JSON (``"raw"``, ``"png"``, ``"jpeg"``)."""
        return self.name.lower()


_ENCODINGS: Final[dict[int, FrameEncoding]] = {int(e): e for e in FrameEncoding}


@dataclass(frozen=True)
class FrameLimits:
    """What a receiver accepts."""

    max_frame_bytes: int = 256 * 1024
    """Largest payload, in bytes."""
    max_dimension: int = 4096
    """Largest width or height, in pixels."""


@dataclass(frozen=True, eq=False)
class Frame:
    """One parsed frame; the payload is checked against the header but not decoded."""

    seq: int
    """Sequence number."""
    timestamp: float
    """Client clock, seconds."""
    width: int
    """Width in pixels."""
    height: int
    """Height in pixels."""
    encoding: FrameEncoding
    """How the payload is encoded."""
    payload: bytes | memoryview
    """The encoded pixels."""


def parse_frame(data: bytes | bytearray | memoryview, limits: FrameLimits = FrameLimits()) -> Frame:
    """Parse and check one binary frame message without decoding its pixels.

    Args:
        data: The whole websocket binary message.
        limits: Size limits.

    Returns:
        The frame; its ``payload`` is a view into ``data``.

    Raises:
        ProtocolError: ``frame_truncated``, ``bad_frame_header``, ``unsupported_encoding``,
            ``frame_too_large`` or ``frame_size_mismatch`` (``seq`` set once it is known).
    """
    view = memoryview(data).cast("B")
    if len(view) < HEADER_SIZE:
        raise ProtocolError(
            ErrorCode.FRAME_TRUNCATED, f"a frame needs a {HEADER_SIZE}-byte header, got {len(view)} bytes"
        )
    magic, version, encoding, channels, flags, seq, timestamp, width, height, length = HEADER.unpack_from(
        view
    )
    if magic != MAGIC:
        raise ProtocolError(ErrorCode.BAD_FRAME_HEADER, f"bad magic {bytes(magic)!r}, expected {MAGIC!r}")
    if version != FRAME_VERSION:
        raise ProtocolError(
            ErrorCode.BAD_FRAME_HEADER, f"frame version {version} unsupported (expected 1)", seq=seq
        )
    frame_encoding = _ENCODINGS.get(encoding)
    if frame_encoding is None:
        raise ProtocolError(
            ErrorCode.UNSUPPORTED_ENCODING, f"encoding {encoding} unknown (0 raw, 1 png, 2 jpeg)", seq=seq
        )
    if channels != CHANNELS:
        raise ProtocolError(ErrorCode.BAD_FRAME_HEADER, f"channels must be 3 (RGB), got {channels}", seq=seq)
    if flags != 0:
        raise ProtocolError(ErrorCode.BAD_FRAME_HEADER, f"flags must be 0, got {flags}", seq=seq)
    if not math.isfinite(timestamp):
        raise ProtocolError(ErrorCode.BAD_FRAME_HEADER, "timestamp must be a finite number", seq=seq)
    if not (0 < width <= limits.max_dimension and 0 < height <= limits.max_dimension):
        raise ProtocolError(
            ErrorCode.BAD_FRAME_HEADER,
            f"frame size {width}x{height} outside 1..{limits.max_dimension} pixels",
            seq=seq,
        )
    actual = len(view) - HEADER_SIZE
    if length > limits.max_frame_bytes or actual > limits.max_frame_bytes:
        raise ProtocolError(
            ErrorCode.FRAME_TOO_LARGE,
            f"payload of {max(length, actual)} bytes exceeds max_frame_bytes={limits.max_frame_bytes}",
            seq=seq,
        )
    if length != actual:
        raise ProtocolError(
            ErrorCode.FRAME_SIZE_MISMATCH,
            f"header says payload_length={length} but {actual} bytes follow the header",
            seq=seq,
        )
    if encoding == FrameEncoding.RAW and length != width * height * CHANNELS:
        raise ProtocolError(
            ErrorCode.FRAME_SIZE_MISMATCH,
            f"a raw {width}x{height} RGB frame has {width * height * CHANNELS} bytes, got {length}",
            seq=seq,
        )
    return Frame(
        seq=seq,
        timestamp=timestamp,
        width=width,
        height=height,
        encoding=frame_encoding,
        payload=view[HEADER_SIZE:],
    )


def encode_frame(
    pixels: np.ndarray,
    seq: int,
    timestamp: float,
    encoding: FrameEncoding = FrameEncoding.RAW,
    jpeg_quality: int = 90,
) -> bytes:
    """Build a binary frame message from an RGB image.

    Args:
        pixels: ``(H, W, 3)`` uint8 RGB, top row first.
        seq: Sequence number (taken modulo 2**32).
        timestamp: The client's clock in seconds.
        encoding: Payload encoding (raw is cheapest; PNG/JPEG cost milliseconds per frame).
        jpeg_quality: JPEG quality, 1-95.

    Returns:
        Header and payload, ready to send as one binary websocket message.

    Raises:
        ValueError: If ``pixels`` is not ``(H, W, 3)`` uint8 or ``timestamp`` is not finite.
    """
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != CHANNELS:
        raise ValueError(f"pixels must be (H, W, 3) uint8, got {pixels.shape} {pixels.dtype}")
    if not math.isfinite(timestamp):
        raise ValueError("timestamp must be finite")
    height, width = pixels.shape[:2]
    if encoding == FrameEncoding.RAW:
        payload = np.ascontiguousarray(pixels).tobytes()
    else:
        from PIL import Image

        buffer = io.BytesIO()
        image = Image.fromarray(np.ascontiguousarray(pixels), mode="RGB")
        if encoding == FrameEncoding.PNG:
            image.save(buffer, format="PNG", compress_level=1)
        else:
            image.save(buffer, format="JPEG", quality=jpeg_quality)
        payload = buffer.getvalue()
    header = HEADER.pack(
        MAGIC,
        FRAME_VERSION,
        int(encoding),
        CHANNELS,
        0,
        seq % (MAX_SEQ + 1),
        timestamp,
        width,
        height,
        len(payload),
    )
    return header + payload


def decode_frame_pixels(frame: Frame) -> np.ndarray:
    """Decode a parsed frame's payload to pixels.

    Raw frames are a zero-copy view of the payload; PNG/JPEG payloads are decoded only
    after the image header is checked against the frame header (so a small frame cannot
    decode into a huge image).

    Args:
        frame: A frame from :func:`parse_frame`.

    Returns:
        ``(height, width, 3)`` uint8 RGB (read-only for raw frames).

    Raises:
        ProtocolError: ``bad_frame_payload`` if the payload does not decode to an image
            of the declared format and size.
    """
    if frame.encoding == FrameEncoding.RAW:
        return np.frombuffer(frame.payload, dtype=np.uint8).reshape(frame.height, frame.width, CHANNELS)
    from PIL import Image

    expected_format = "PNG" if frame.encoding == FrameEncoding.PNG else "JPEG"
    try:
        with Image.open(io.BytesIO(frame.payload), formats=[expected_format]) as image:
            if image.size != (frame.width, frame.height):
                raise ProtocolError(
                    ErrorCode.BAD_FRAME_PAYLOAD,
                    f"{expected_format} image is {image.size[0]}x{image.size[1]}, header says "
                    f"{frame.width}x{frame.height}",
                    seq=frame.seq,
                )
            pixels = np.asarray(image.convert("RGB"), dtype=np.uint8)
    except ProtocolError:
        raise
    except Exception as exc:  # Pillow's decoders raise many types on bad input; all mean the same
        reason = _OBJECT_REPR.sub("the payload", str(exc))  # no memory addresses to the client
        raise ProtocolError(
            ErrorCode.BAD_FRAME_PAYLOAD, f"payload is not a valid {expected_format}: {reason}", seq=frame.seq
        ) from None
    return pixels


#: An object's default repr (``<_io.BytesIO object at 0x7f...>``), which says nothing to a client.
_OBJECT_REPR: Final = re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>")

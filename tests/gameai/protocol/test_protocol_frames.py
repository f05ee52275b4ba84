"""Binary frames: header layout, round trips, and every lie a header can tell."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest

from gameai.protocol import (
    HEADER_SIZE,
    ErrorCode,
    FrameEncoding,
    FrameLimits,
    ProtocolError,
    decode_frame_pixels,
    encode_frame,
    parse_frame,
)
from gameai.protocol.frames import HEADER, MAGIC


def _pixels(height: int = 12, width: int = 10, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _header(**overrides: object) -> bytes:
    fields = {
        "magic": MAGIC, "version": 1, "encoding": 0, "channels": 3, "flags": 0, "seq": 5, "timestamp": 1.25,
        "width": 2, "height": 2, "length": 12,
    }  # fmt: skip
    fields.update(overrides)
    return HEADER.pack(*fields.values())


def test_header_layout_is_the_documented_28_bytes() -> None:
    data = encode_frame(_pixels(3, 4), seq=258, timestamp=2.5)
    assert HEADER_SIZE == 28
    assert data[:4] == b"GAIF"
    assert data[4] == 1 and data[5] == 0 and data[6] == 3 and data[7] == 0
    assert struct.unpack_from("<I", data, 8)[0] == 258
    assert struct.unpack_from("<d", data, 12)[0] == 2.5
    assert struct.unpack_from("<HH", data, 20) == (4, 3)
    assert struct.unpack_from("<I", data, 24)[0] == 4 * 3 * 3 == len(data) - 28


def test_raw_frame_round_trips() -> None:
    pixels = _pixels()
    frame = parse_frame(encode_frame(pixels, seq=7, timestamp=123.5))
    assert (frame.seq, frame.timestamp, frame.width, frame.height) == (7, 123.5, 10, 12)
    assert frame.encoding == FrameEncoding.RAW
    assert np.array_equal(decode_frame_pixels(frame), pixels)


def test_png_frame_round_trips_losslessly() -> None:
    pixels = _pixels()
    frame = parse_frame(encode_frame(pixels, seq=1, timestamp=0.0, encoding=FrameEncoding.PNG))
    assert frame.encoding == FrameEncoding.PNG
    assert np.array_equal(decode_frame_pixels(frame), pixels)


def test_jpeg_frame_decodes_to_the_declared_size() -> None:
    pixels = np.full((16, 16, 3), 128, dtype=np.uint8)
    frame = parse_frame(encode_frame(pixels, seq=1, timestamp=0.0, encoding=FrameEncoding.JPEG))
    decoded = decode_frame_pixels(frame)
    assert decoded.shape == (16, 16, 3)
    assert np.abs(decoded.astype(int) - 128).max() <= 2


def test_seq_wraps_at_32_bits() -> None:
    assert parse_frame(encode_frame(_pixels(), seq=2**32 + 3, timestamp=0.0)).seq == 3


def test_encode_refuses_bad_pixels() -> None:
    with pytest.raises(ValueError):
        encode_frame(np.zeros((4, 4), dtype=np.uint8), seq=0, timestamp=0.0)
    with pytest.raises(ValueError):
        encode_frame(np.zeros((4, 4, 3), dtype=np.float32), seq=0, timestamp=0.0)
    with pytest.raises(ValueError):
        encode_frame(np.zeros((4, 4, 3), dtype=np.uint8), seq=0, timestamp=float("nan"))


def _png_bytes(pixels: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


BAD_FRAMES: list[tuple[str, bytes, ErrorCode]] = [
    ("empty", b"", ErrorCode.FRAME_TRUNCATED),
    ("shorter than the header", _header()[:20], ErrorCode.FRAME_TRUNCATED),
    ("bad magic", _header(magic=b"JUNK") + bytes(12), ErrorCode.BAD_FRAME_HEADER),
    ("future version", _header(version=2) + bytes(12), ErrorCode.BAD_FRAME_HEADER),
    ("grey frames", _header(channels=1, length=4) + bytes(4), ErrorCode.BAD_FRAME_HEADER),
    ("reserved flags set", _header(flags=1) + bytes(12), ErrorCode.BAD_FRAME_HEADER),
    ("NaN timestamp", _header(timestamp=float("nan")) + bytes(12), ErrorCode.BAD_FRAME_HEADER),
    ("infinite timestamp", _header(timestamp=float("inf")) + bytes(12), ErrorCode.BAD_FRAME_HEADER),
    ("zero width", _header(width=0, length=0), ErrorCode.BAD_FRAME_HEADER),
    ("unknown encoding", _header(encoding=9) + bytes(12), ErrorCode.UNSUPPORTED_ENCODING),
    ("payload truncated", _header() + bytes(11), ErrorCode.FRAME_SIZE_MISMATCH),
    ("payload longer than declared", _header() + bytes(13), ErrorCode.FRAME_SIZE_MISMATCH),
    (
        "header lies about raw size",
        _header(width=4, height=4, length=12) + bytes(12),
        ErrorCode.FRAME_SIZE_MISMATCH,
    ),
    ("declares a huge payload", _header(length=2**32 - 1) + bytes(12), ErrorCode.FRAME_TOO_LARGE),
]


@pytest.mark.parametrize(
    ("data", "code"), [(d, c) for _, d, c in BAD_FRAMES], ids=[n for n, _, _ in BAD_FRAMES]
)
def test_bad_frame_gives_its_typed_error(data: bytes, code: ErrorCode) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_frame(data)
    assert info.value.code == code


def test_sizes_are_checked_before_the_payload_is_looked_at() -> None:
    limits = FrameLimits(max_frame_bytes=100)
    big = encode_frame(_pixels(10, 10), seq=4, timestamp=0.0)  # 300-byte payload
    with pytest.raises(ProtocolError) as info:
        parse_frame(big, limits)
    assert info.value.code == ErrorCode.FRAME_TOO_LARGE
    assert info.value.seq == 4


def test_dimension_limit() -> None:
    with pytest.raises(ProtocolError) as info:
        parse_frame(_header(width=5000, height=1, length=15000) + bytes(15000), FrameLimits(10**6, 4096))
    assert info.value.code == ErrorCode.BAD_FRAME_HEADER


def test_png_that_is_not_a_png() -> None:
    frame = parse_frame(_header(encoding=1, length=5) + b"hello")
    with pytest.raises(ProtocolError) as info:
        decode_frame_pixels(frame)
    assert info.value.code == ErrorCode.BAD_FRAME_PAYLOAD
    assert "cannot identify image file the payload" in info.value.message
    assert " at 0x" not in info.value.message  # no object reprs (memory addresses) for the client


def test_png_of_another_size_than_declared_is_refused_before_decoding() -> None:
    payload = _png_bytes(_pixels(64, 64))
    frame = parse_frame(_header(encoding=1, width=8, height=8, length=len(payload)) + payload)
    with pytest.raises(ProtocolError) as info:
        decode_frame_pixels(frame)
    assert info.value.code == ErrorCode.BAD_FRAME_PAYLOAD
    assert "64x64" in info.value.message


def test_jpeg_declared_but_png_sent() -> None:
    payload = _png_bytes(_pixels(8, 8))
    frame = parse_frame(_header(encoding=2, width=8, height=8, length=len(payload)) + payload)
    with pytest.raises(ProtocolError) as info:
        decode_frame_pixels(frame)
    assert info.value.code == ErrorCode.BAD_FRAME_PAYLOAD


def test_truncated_png_payload() -> None:
    full = _png_bytes(_pixels(8, 8))
    payload = full[: len(full) // 2]
    frame = parse_frame(_header(encoding=1, width=8, height=8, length=len(payload)) + payload)
    with pytest.raises(ProtocolError) as info:
        decode_frame_pixels(frame)
    assert info.value.code == ErrorCode.BAD_FRAME_PAYLOAD

"""Reference data for the JS tests, from gameai's Python code (run with the project's Python).

python python_frames.py frames       # JSON: frames encode_frame writes (hex), with their inputs
python python_frames.py smoothscale  # JSON: images and what pygame's smoothscale makes of them
python python_frames.py decode HEX   # JSON: parse_frame + decode_frame_pixels of a frame (pixels hex)
python python_frames.py assets DIR   # write random-initialised test models under DIR
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np


def frames() -> list[dict[str, object]]:
    from gameai.protocol.frames import FrameEncoding, encode_frame

    rng = np.random.default_rng(7)
    cases = [
        ("raw", 84, 84, 42, 1700000000.25),
        ("raw", 3, 2, 0, 0.0),
        ("raw", 7, 5, 2**32 - 1, -1.5),
        ("raw", 16, 9, 2**32 + 5, 1e9 + 0.123456),
        ("raw", 1, 1, 123456789, 1.0e-300),
        ("png", 5, 4, 7, 1234.5),
        ("png", 84, 84, 99, 1700000123.0625),
        ("jpeg", 8, 8, 3, 42.0),
    ]
    out = []
    for encoding, width, height, seq, timestamp in cases:
        pixels = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
        data = encode_frame(pixels, seq, timestamp, FrameEncoding[encoding.upper()])
        out.append(
            {
                "encoding": encoding,
                "width": width,
                "height": height,
                "seq": seq,
                "timestamp": timestamp,
                "pixels": pixels.tobytes().hex(),
                "frame": data.hex(),
            }
        )
    return out


def smoothscale() -> dict[str, object]:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    from gameai.client.frames import downscale_frame

    backends = {"sse": "SSE", "generic": "GENERIC"}
    default = pygame.transform.get_smoothscale_backend()
    rng = np.random.default_rng(11)
    sizes = [
        ((640, 480), (84, 84)),
        ((200, 150), (84, 84)),
        ((84, 300), (84, 84)),
        ((97, 61), (84, 84)),
        ((50, 40), (84, 84)),
        ((123, 45), (17, 90)),
    ]
    cases = []
    for (width, height), (out_w, out_h) in sizes:
        # smooth content plus noise: both the averaging and the rounding show
        ys, xs = np.mgrid[0:height, 0:width]
        base = np.stack(
            [xs * 255 // max(width - 1, 1), ys * 255 // max(height - 1, 1), (xs + ys) % 256], axis=-1
        )
        noise = rng.integers(0, 64, size=(height, width, 3))
        image = ((base + noise) % 256).astype(np.uint8)
        downscaled = {}
        for name, backend in backends.items():
            try:
                pygame.transform.set_smoothscale_backend(backend)
            except ValueError:  # not this CPU's (SSE is x86-64 only)
                continue
            downscaled[name] = downscale_frame(image, (out_w, out_h)).tobytes().hex()
        pygame.transform.set_smoothscale_backend(default)
        cases.append(
            {
                "width": width,
                "height": height,
                "out_width": out_w,
                "out_height": out_h,
                "image": image.tobytes().hex(),
                "downscaled": downscaled,
            }
        )
    return {"default_backend": default, "cases": cases}


def decode(frame_hex: str) -> dict[str, object]:
    from gameai.protocol.frames import decode_frame_pixels, parse_frame

    frame = parse_frame(bytes.fromhex(frame_hex))
    pixels = decode_frame_pixels(frame)
    return {
        "seq": frame.seq,
        "timestamp": frame.timestamp,
        "width": frame.width,
        "height": frame.height,
        "encoding": frame.encoding.label,
        "pixels": np.ascontiguousarray(pixels).tobytes().hex(),
    }


def main() -> None:
    command = sys.argv[1]
    if command == "frames":
        json.dump(frames(), sys.stdout)
    elif command == "smoothscale":
        json.dump(smoothscale(), sys.stdout)
    elif command == "decode":
        json.dump(decode(sys.stdin.read().strip()), sys.stdout)
    elif command == "assets":
        from pathlib import Path

        from gameai.testing.servers import write_test_assets

        write_test_assets(Path(sys.argv[2]))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()

"""`gameai train behaviour import`: folders of images plus a labels file -> a behaviour dataset."""

from __future__ import annotations

import importlib.util
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pygame
import pytest

from gameai.behaviour.dataset import read_dataset
from gameai.cli import main
from gameai.client.frames import downscale_frame
from gameai.training.behaviour.importing import read_label_rows, resampled


def _image(i: int) -> np.ndarray:
    """A 64x96 (height x width) picture that says which frame it is: a bar as long as ``i``."""
    image = np.zeros((64, 96, 3), dtype=np.uint8)
    image[:, :, 2] = 40
    image[20:40, : 8 * (i + 1)] = (200, 180, 20)
    return image


def _write_session(folder: Path, count: int, suffix: str = ".png") -> None:
    folder.mkdir(parents=True)
    for i in range(count):
        surface = pygame.image.frombuffer(_image(i).tobytes(), (96, 64), "RGB")
        pygame.image.save(surface, str(folder / f"frame{i:03d}{suffix}"))


def test_resampling_shows_the_source_frame_on_screen_at_each_time() -> None:
    loaded: list[int] = []

    def loader(j: int) -> Callable[[], int]:
        def load() -> int:
            loaded.append(j)
            return j

        return load

    down = [(i, j) for i, j, _ in resampled([loader(j) for j in range(10)], 10.0, 4.0)]
    assert down == [(0, 0), (1, 2), (2, 5), (3, 7)] and loaded == [0, 2, 5, 7]  # skipped frames never load
    up = [(i, j) for i, j, _ in resampled([loader(j) for j in range(3)], 2.0, 5.0)]
    # 1.5 s of play: frames at 0, 0.2, ... 1.4 s.
    assert [j for _, j in up] == [0, 0, 0, 1, 1, 2, 2, 2] and len(up) == math.ceil(3 / 2 * 5)


def test_images_and_a_csv_of_seconds_become_a_dataset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "source"
    _write_session(source / "s1", 10)
    _write_session(source / "s2", 6, suffix=".jpg")
    _write_session(source / "unlabelled", 2)
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "session,player,label,from_s,to_s\ns1,alice,calm,0,0.5\ns1,alice,busy,0.5,\ns2,bob,busy,0.2,0.4\n",
        encoding="utf-8",
    )
    out = tmp_path / "dataset"
    args = ["train", "behaviour", "import", "--from", str(source), "--labels", str(labels),
            "--dataset", str(out), "--game-id", "toy", "--classes", "calm", "busy",
            "--fps", "5", "--size", "40x48", "--source-fps", "10"]  # fmt: skip
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary == {"imported": {"s1": 5, "s2": 3}, "kept": [], "not_labelled": ["unlabelled"]}
    data = read_dataset(out)
    assert data.info.classes == ("calm", "busy") and data.info.frame_size == (40, 48)
    assert data.info.sample_fps == 5.0 and data.info.game_id == "toy"
    s1, s2 = data.sessions
    assert (s1.player_id, s1.source, s2.player_id) == ("alice", "import", "bob")
    # 10 images at 10 fps: 1 s, 5 frames at 5 fps, showing images 0, 2, 4, 6, 8.
    expected = np.stack([downscale_frame(_image(j), (48, 40)) for j in (0, 2, 4, 6, 8)])
    np.testing.assert_array_equal(s1.frames(), expected)
    assert s1.frame_labels() == ["calm", "calm", "calm", "busy", "busy"]  # at 0, 0.2, 0.4 | 0.6, 0.8 s
    assert s2.frame_labels() == [None, "busy", None]
    # Again: what is there is kept; a session a killed import left unfinished is imported again.
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["kept"] == ["s1", "s2"]


def test_json_labels_in_frames_add_to_an_existing_dataset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "source"
    _write_session(source / "s3", 8)
    out = tmp_path / "dataset"
    first = tmp_path / "first.json"
    first.write_text(json.dumps([{"session": "s3", "player": "carol", "label": "calm", "from_frame": 2}]))
    assert main(["train", "behaviour", "import", "--from", str(source), "--labels", str(first),
                 "--dataset", str(out), "--game-id", "toy", "--classes", "calm", "busy"]) == 0  # fmt: skip
    capsys.readouterr()
    (s3,) = read_dataset(out).sessions
    assert read_dataset(out).info.frame_size == (84, 84) and s3.frame_count == 8  # 5 fps images by default
    assert s3.frame_labels() == [None, None, *["calm"] * 6]
    # A label that is no class, a session without images: refused, one line each.
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"rows": [{"session": "s3", "player": "carol", "label": "wild", "from_s": 0}]}))
    command = [
        "train",
        "behaviour",
        "import",
        "--from",
        str(source),
        "--labels",
        str(bad),
        "--dataset",
        str(out),
    ]
    assert main(command) == 2
    assert "not classes of the dataset ('calm', 'busy'): ['wild']" in capsys.readouterr().err
    bad.write_text(json.dumps([{"session": "s9", "player": "dan", "label": "calm", "from_s": 0}]))
    assert main(command) == 2
    assert "has no folder or video of: ['s9']" in capsys.readouterr().err


def test_label_rows_are_checked(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("session,player,label,from_s,to_frame\ns1,p,calm,0,3\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2: give a range in seconds"):
        read_label_rows(labels)
    labels.write_text("session,player,label,from_s,to_s\ns1,p,calm,2,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="to_s must be above from_s"):
        read_label_rows(labels)
    labels.write_text("session,label,from_s\ns1,calm,0\n", encoding="utf-8")
    with pytest.raises(ValueError, match="player is missing"):
        read_label_rows(labels)


@pytest.mark.skipif(
    importlib.util.find_spec("av") is not None or importlib.util.find_spec("cv2") is not None,
    reason="a video decoder is installed",
)
def test_a_video_without_a_decoder_says_what_to_install(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "clip.mp4").write_bytes(b"not decoded")
    labels = tmp_path / "labels.csv"
    labels.write_text("session,player,label,from_s,to_s\nclip,p,calm,0,\n", encoding="utf-8")
    args = ["train", "behaviour", "import", "--from", str(source), "--labels", str(labels),
            "--dataset", str(tmp_path / "out"), "--game-id", "toy", "--classes", "calm", "busy"]  # fmt: skip
    assert main(args) == 2
    error = capsys.readouterr().err
    assert "clip.mp4: importing videos needs a decoder: pip install 'gameai[video]'" in error
    assert len(error.strip().splitlines()) == 1


def test_a_video_is_resampled_from_its_own_rate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    av = pytest.importorskip("av")
    source = tmp_path / "source"
    source.mkdir()
    with av.open(str(source / "clip.mp4"), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(_image(i), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    labels = tmp_path / "labels.csv"
    labels.write_text("session,player,label,from_frame,to_frame\nclip,p,calm,0,4\nclip,p,busy,4,\n")
    args = ["train", "behaviour", "import", "--from", str(source), "--labels", str(labels),
            "--dataset", str(tmp_path / "out"), "--game-id", "toy", "--classes", "calm", "busy"]  # fmt: skip
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["imported"] == {"clip": 5}  # 1 s at 5 fps
    (clip,) = read_dataset(tmp_path / "out").sessions
    assert clip.frame_labels() == ["calm", "calm", "busy", "busy", "busy"]  # source frames 0, 2 | 4, 6, 8
    bars = [int((frame[:, :, 0] > 100).any(axis=0).sum()) for frame in clip.frames()]
    assert bars == sorted(bars) and bars[0] < bars[-1]  # the bar grows: frames in order

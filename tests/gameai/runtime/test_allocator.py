"""keep_freed_memory: glibc keeps the behaviour model's freed batch buffers in the process."""

from __future__ import annotations

import platform

import pytest

from gameai.runtime.allocator import keep_freed_memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_glibc_takes_the_settings_and_a_second_call_keeps_them() -> None:
    assert keep_freed_memory()
    assert keep_freed_memory()

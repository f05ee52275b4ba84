"""Cutting a streamed reply before its first stop sequence, without ever taking text back."""

from __future__ import annotations


class StopSequenceBuffer:
    """Holds back streamed text that might be the start of a stop sequence.

    Feed deltas in order with :meth:`push`; it returns the text safe to emit. Once a
    stop sequence is complete, :attr:`stopped` is True and nothing after it is ever
    returned. Call :meth:`flush` at the end of the stream for the held-back rest.

    Args:
        stops: The stop sequences (empty strings are ignored).
    """

    def __init__(self, stops: tuple[str, ...] | list[str]) -> None:
        self.stops = tuple(s for s in stops if s)
        self.stopped = False
        self._pending = ""

    def push(self, text: str) -> str:
        """Add a delta.

        Returns:
            The text that can be emitted now (may be empty).
        """
        if self.stopped:
            return ""
        if not self.stops:
            return text
        self._pending += text
        cut = min((i for i in (self._pending.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            out, self._pending = self._pending[:cut], ""
            return out
        hold = self._longest_partial_match()
        out = self._pending[: len(self._pending) - hold]
        self._pending = self._pending[len(self._pending) - hold :]
        return out

    def flush(self) -> str:
        """The held-back text at the end of the stream (empty once stopped)."""
        out, self._pending = ("" if self.stopped else self._pending), ""
        return out

    def _longest_partial_match(self) -> int:
        """Length of the longest suffix of the pending text that starts a stop sequence."""
        best = 0
        for stop in self.stops:
            for length in range(min(len(stop) - 1, len(self._pending)), best, -1):
                if self._pending.endswith(stop[:length]):
                    best = length
                    break
        return best

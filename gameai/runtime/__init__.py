"""The model runtime: one worker per model, dynamic batching across sessions, off the event loop.

* :mod:`~gameai.runtime.runtime`: :class:`ModelRuntime` loads ``assets/`` and reports each model's status.
* :mod:`~gameai.runtime.batching`: :class:`BatchingWorker` (behaviour CNN, agents).
* :mod:`~gameai.runtime.dialogue`: :class:`DialogueWorker` (streamed replies).
* :mod:`~gameai.runtime.models`: the batch functions themselves.
* :mod:`~gameai.runtime.device`: ``auto`` / ``cpu`` / ``cuda`` selection.
"""

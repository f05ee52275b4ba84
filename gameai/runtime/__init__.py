"""The model runtime: workers that run models off the event loop, batching across sessions.

What the services (:mod:`gameai.services`) run their models on; it knows nothing of sessions
or messages.

* :mod:`~gameai.runtime.config`: :class:`RuntimeConfig`, which models to serve and how.
* :mod:`~gameai.runtime.batching`: :class:`BatchingWorker` (behaviour CNN, agents).
* :mod:`~gameai.runtime.model_process`: the behaviour model in a child process.
* :mod:`~gameai.runtime.dialogue`: :class:`DialogueWorker` (streamed replies).
* :mod:`~gameai.runtime.models`: the batch functions themselves.
* :mod:`~gameai.runtime.device`: ``auto`` / ``cpu`` / ``cuda`` selection, CPU threads.
"""

"""The services the server offers, behind one small interface (:mod:`~gameai.services.base`).

* :mod:`~gameai.services.base`: :class:`Service` and :class:`SessionService`, the seam.
* :mod:`~gameai.services.registry`: :class:`ServiceRegistry`, which service owns which message.
* :mod:`~gameai.services.requests`: :class:`RequestTracker`, a session's requests in flight.
* :mod:`~gameai.services.behaviour` (+ :mod:`~gameai.services.behaviour_frames`): frames ->
  pushed behaviour results.
* :mod:`~gameai.services.dialogue` (+ :mod:`~gameai.services.dialogue_context`): NPC replies,
  streamed.
* :mod:`~gameai.services.agents`: ``act`` -> ``action`` at the session's difficulty.
* :mod:`~gameai.services.builtin`: :func:`load_services`, the three above from a
  :class:`~gameai.runtime.config.RuntimeConfig`.

A new service is one module here (a :class:`Service` subclass and its message classes),
registered with :meth:`ServiceRegistry.register` before the server starts; nothing in
:mod:`gameai.server` changes.
"""

"""The NPC dialogue corpus: written lines (``assets/dialogue/lines``) and their expansion.

:mod:`.lines` parses the written line banks, :mod:`.generate` expands them into
(prompt, reply) examples with a held-out split of whole condition combinations, and
:mod:`.chat` turns the general-conversation packages into pretraining pairs.
"""

"""The NPC dialogue corpus: made-up and shipped NPC cards spoken in written voices.

:mod:`.lines` parses the line banks (``assets/dialogue/voices``, ``lines/player.txt``),
:mod:`.pools` holds the word pools cards are made from (each split into a training and a
held-out half), :mod:`.cards` makes cards and questions about them, :mod:`.generate` turns
them into (prompt, reply) examples, and :mod:`.chat` turns the general-conversation packages
into pretraining pairs.
"""

"""From a ``dialogue.request`` and its session to what the dialogue backend is given."""

from __future__ import annotations

from gameai.protocol import DialogueRequest, Hello
from gameai.services.dialogue_context import build_dialogue_context, generation_params
from gameai.session.state import RecognisedBehaviour, Session


def test_dialogue_context_takes_the_session_state() -> None:
    session = Session(session_id="s", hello=Hello(protocol=1, game_id="g"))
    session.events.extend(["kill"])
    session.behaviour = RecognisedBehaviour(label="evasive", probabilities={"evasive": 1.0}, seq=1)
    request = DialogueRequest(
        id="d", npc_id="smith", persona="blacksmith", player_line="Hi", events=("hurt",)
    )
    context = build_dialogue_context(request, session)
    assert context.behaviour == "evasive"  # recognised behaviour put in automatically
    assert context.events == ("kill", "hurt") and session.events.recent() == ("kill", "hurt")
    overridden = build_dialogue_context(
        DialogueRequest(id="e", npc_id="smith", persona="blacksmith", behaviour="aggressive"), session
    )
    assert overridden.behaviour == "aggressive"  # the request wins


def test_generation_params_defaults_and_overrides() -> None:
    default = generation_params(DialogueRequest(id="d", npc_id="n", persona="p"), default_max_new_tokens=40)
    assert (default.max_new_tokens, default.temperature, default.seed) == (40, 0.8, None)
    greedy = generation_params(
        DialogueRequest(
            id="d", npc_id="n", persona="p", temperature=0.0, seed=3, stop=("\n",), max_new_tokens=9
        ),
        default_max_new_tokens=40,
    )
    assert (greedy.max_new_tokens, greedy.temperature, greedy.seed, greedy.stop) == (9, 0.0, 3, ("\n",))

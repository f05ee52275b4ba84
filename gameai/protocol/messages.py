"""The protocol's control messages: one frozen dataclass per JSON message type.

Each message class has a ``TYPE`` (the JSON ``type`` string) and typed fields whose
bounds are declared with :func:`~gameai.protocol.fields.constrained`. Parsing,
validation and serialisation all live in :mod:`gameai.protocol.codec`; the JSON
Schema in :mod:`gameai.protocol.schema` is generated from these classes.

Client to server: :class:`Hello`, :class:`Events`, :class:`DialogueRequest`,
:class:`DialogueCancel`, :class:`Act`, :class:`ActBatch`, :class:`MatchResult`, :class:`Label`,
:class:`Ping` (and binary frames, :mod:`gameai.protocol.frames`).
Server to client: :class:`Welcome`, :class:`BehaviourResult`, :class:`DialogueDelta`,
:class:`DialogueDone`, :class:`Action`, :class:`ActionBatch`, :class:`Error`, :class:`Pong`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Final, Literal

from gameai.protocol.errors import ErrorCode
from gameai.protocol.fields import Constraint, constrained

#: The protocol version this code speaks (``hello.protocol`` / ``welcome.protocol``).
PROTOCOL_VERSION: Final = 1

Service = Literal["behaviour", "dialogue", "agents"]
"""A built-in service a client can ask for in ``hello`` (a server may offer more: ``welcome.services``)."""
ALL_SERVICES: Final[tuple[Service, ...]] = ("behaviour", "dialogue", "agents")
#: Most services one ``hello`` may name.
MAX_SERVICES: Final = 16
_SERVICE_NAME = Constraint(min_length=1, max_length=32)

Encoding = Literal["raw", "png", "jpeg"]
"""How a frame's pixels are encoded (``raw`` is packed RGB, row-major, top row first)."""

_ID = {"min_length": 1, "max_length": 64}
_NAME = {"min_length": 1, "max_length": 64}
_UINT32_MAX = 2**32 - 1
#: Most alternative replies one ``dialogue.request`` may ask for (its ``n``).
MAX_ALTERNATIVES: Final = 4
_EVENT_NAME = Constraint(min_length=1, max_length=32)
_STOP_SEQUENCE = Constraint(min_length=1, max_length=32)


@dataclass(frozen=True, kw_only=True)
class Message:
    """Base of every control message."""

    TYPE: ClassVar[str] = ""


# ---------------------------------------------------------------- message parts


@dataclass(frozen=True, kw_only=True)
class FrameFormat:
    """The frames a client will send (declared in ``hello``)."""

    width: int = constrained(minimum=1, maximum=4096)
    """Frame width in pixels."""
    height: int = constrained(minimum=1, maximum=4096)
    """Frame height in pixels."""
    encoding: Encoding = "raw"
    """Pixel encoding of the payloads."""


@dataclass(frozen=True, kw_only=True)
class ModelInfo:
    """What the server knows about one model (a value of ``welcome.models``)."""

    service: str
    """Which service the model backs (``behaviour``, ``dialogue``, ``agent``, or the server's own)."""
    status: Literal["ready", "unavailable"]
    """``ready``: requests are served. ``unavailable``: requests get ``model_unavailable``."""
    name: str | None = None
    """The model's name."""
    version: str | None = None
    """Version or content hash of the loaded weights."""
    reason: str | None = None
    """Why the model is unavailable (missing file, corrupt weights...)."""
    random_init: bool = False
    """True when the weights are random (an untrained stand-in, for benchmarks)."""


@dataclass(frozen=True, kw_only=True)
class BehaviourSpec:
    """What the behaviour model takes: clients send frames exactly like this."""

    width: int
    """Frame width in pixels."""
    height: int
    """Frame height in pixels."""
    channels: int
    """Colour channels per frame (3: RGB)."""
    frames_per_window: int
    """How many consecutive frames one classification looks at."""
    sample_fps: float
    """The frame rate the model was trained at: send frames at this rate."""
    classes: tuple[str, ...]
    """The behaviour labels, in the model's output order."""
    bot_like_min_precision: float | None = None
    """The ``bot_like`` precision the server holds that label to, from the model's calibration
    (``gameai serve --behaviour-bot-like-min-precision``; 0.97 by default where the model has a
    calibration that reaches it); null: not held to one."""
    bot_like_minimums: tuple[BotLikeMinimum, ...] = ()
    """The smoothed probability ``bot_like`` needs before it is the ``label`` of a ``behaviour``
    result, by how much play the session has shown, in order (empty: none; the label is then
    sent like any other)."""
    unknown_threshold: float | None = None
    """The ``look_score`` above which a window's frames are not the model's game and its
    result's label is ``unknown``; null: this model has no such test (every result is one of
    ``classes``)."""
    accusation_classes: tuple[str, ...] = ()
    """The classes a game may act against a player on (``bot_like`` for the arena's model; a
    game's own model names its own), each held back by its calibration like ``bot_like``."""
    accusation_minimums: tuple[AccusationMinimum, ...] = ()
    """Per accusation class, the smoothed probability it needs before it is the ``label`` of a
    ``behaviour`` result, by how much play the session has shown (empty for a class: none)."""


@dataclass(frozen=True, kw_only=True)
class AccusationMinimum:
    """From one age of a session on, the smoothed probability an accusation class needs to be sent."""

    label: str
    """The accusation class."""
    from_s: float
    """Once the server has seen more than this many seconds of the session's play (0: from the start)."""
    min_probability: float
    """The smallest smoothed probability at which the class is the result's label (1: not sent)."""


@dataclass(frozen=True, kw_only=True)
class BotLikeMinimum:
    """From one age of a session on, the smoothed probability ``bot_like`` needs to be sent."""

    from_s: float
    """Once the server has seen more than this many seconds of the session's play (0: from the start)."""
    min_probability: float
    """The smoothed ``bot_like`` probability the label needs until the next minimum begins (1: not sent)."""


@dataclass(frozen=True, kw_only=True)
class AgentSpec:
    """What one agent takes and returns (a value of ``welcome.agents``)."""

    obs_dim: int
    """Length of the observation vector of ``act``."""
    action_nvec: tuple[int, ...]
    """Choices per element of a discrete action: ``action[i]`` is an int in ``[0, action_nvec[i])``
    (``Discrete(n)``: ``[n]``; ``MultiBinary(k)``: k 2s); empty for ``Box``."""
    difficulty_input: bool
    """Whether the policy is conditioned on the difficulty (else only the handicap follows it)."""
    action_space: Literal["Discrete", "MultiDiscrete", "MultiBinary", "Box"] = "MultiDiscrete"
    """The Gymnasium action space the agent plays (``docs/agents.md``)."""
    action_low: tuple[float, ...] | None = None
    """``Box``: the lowest value of each element (``-3.4e38``: unbounded); else absent."""
    action_high: tuple[float, ...] | None = None
    """``Box``: the highest value of each element (``3.4e38``: unbounded); else absent."""
    handicap: tuple[str, ...] = ()
    """How the action is spoiled below difficulty 1 (``random_action``, ``hold_fire``...; docs/agents.md)."""


@dataclass(frozen=True, kw_only=True)
class GameModelsInfo:
    """Whose models a session got (``welcome.game``): the server serves each game its own."""

    game_id: str
    """The session's ``hello.game_id``."""
    models_game: str | None = None
    """``game_id`` when the server has models of that game, and the session got them; null when
    it has none and the session got the default set (``default_game``'s)."""
    default_game: str | None = None
    """The game whose models make the server's default set (null: the default set is the
    server's own options' alone)."""


#: Longest ``hello.record.player_id``, in characters.
MAX_PLAYER_ID: Final = 256


@dataclass(frozen=True, kw_only=True)
class RecordRequest:
    """The game asks the server to record this session for training (``hello.record``).

    Only a server whose operator enabled recording (``gameai serve --record-dir DIR``) records,
    and only sessions that ask for it with the player's consent; ``welcome.recording`` says
    whether this one is recorded, and why not.
    """

    player_id: str = constrained(min_length=1, max_length=MAX_PLAYER_ID)
    """The game's own stable id of the player, a pseudonym (never a name or an e-mail address):
    the training keeps all of a player's sessions in one split, and ``gameai recordings delete
    --player ID`` removes them."""
    consent: bool
    """The game asserts that the player agreed to have their play recorded (false: the session
    is not recorded)."""


@dataclass(frozen=True, kw_only=True)
class RecordingInfo:
    """Whether a session that asked to be recorded is (``welcome.recording``)."""

    recorded: bool
    """True: the frames the behaviour model receives, and the ``label`` messages, are stored
    (until the session ends, or a ``recording_stopped`` error says otherwise)."""
    reason: str | None = None
    """Why the session is not recorded (absent when it is)."""


@dataclass(frozen=True, kw_only=True)
class Limits:
    """The limits of this session (``welcome.limits``)."""

    max_message_bytes: int
    """Largest text message accepted, in bytes of UTF-8."""
    max_frame_bytes: int
    """Largest frame payload accepted, in bytes (header not included)."""
    max_fps: float
    """Frames per second accepted; the excess is dropped with ``rate_limited``."""
    max_messages_per_s: float
    """Control messages per second accepted; the excess is dropped with ``rate_limited``."""
    max_inflight_requests: int
    """Requests (dialogue + act) that may be in flight at once."""
    max_new_tokens: int
    """Largest ``max_new_tokens`` of a dialogue request."""
    frame_queue: int
    """Frames queued per session before the oldest is dropped."""
    idle_timeout_s: float
    """The connection closes after this long without a message."""


#: Longest ``npc.description``, in characters.
MAX_NPC_DESCRIPTION: Final = 1000
#: Most facts one NPC card holds.
MAX_NPC_FACTS: Final = 64
_CARD_LINE = Constraint(min_length=1, max_length=200)
_CARD_WORD = Constraint(min_length=1, max_length=48)


@dataclass(frozen=True, kw_only=True)
class NpcCard:
    """An NPC the game defines: who it is, how it talks and what it knows (``docs/dialogue.md``).

    Given in ``dialogue.request.npc``, or loaded by the server from ``gameai serve --npcs FILE``
    and named by ``dialogue.request.npc_id``. Replies answer the player from ``facts`` (and the
    request's ``game_state``) and say the NPC does not know when they do not hold the answer.
    """

    name: str = constrained(min_length=1, max_length=64)
    """What the NPC is called (``"Brann"``)."""
    role: str = constrained("", max_length=64)
    """What it is in the game's world (``"blacksmith"``)."""
    description: str = constrained("", max_length=MAX_NPC_DESCRIPTION)
    """Free text about the NPC; its sentences count as facts the NPC knows."""
    traits: tuple[str, ...] = constrained((), max_length=12, items=_CARD_WORD)
    """Personality traits (``"gruff"``, ``"honest"``)."""
    speech: str = constrained("", max_length=200)
    """How it talks (``"short, blunt sentences"``)."""
    facts: tuple[str, ...] = constrained((), max_length=MAX_NPC_FACTS, items=_CARD_LINE)
    """What it knows, one short sentence each (``"A new shield costs 40 gold."``)."""
    goals: tuple[str, ...] = constrained((), max_length=12, items=_CARD_LINE)
    """What it wants (``"find someone to clear the old mine"``)."""
    mood: str | None = constrained(None, max_length=64)
    """Its usual mood, when the request gives none."""


# ---------------------------------------------------------------- client -> server


@dataclass(frozen=True, kw_only=True)
class Hello(Message):
    """First message of every connection: who the client is and what it wants."""

    TYPE: ClassVar[str] = "hello"
    protocol: int = constrained(minimum=0, maximum=65535)
    """Protocol version the client speaks (this document: 1)."""
    game_id: str = constrained(**_NAME)
    """Which game this is: the session gets that game's models where the server has them, else
    the server's default set (``welcome.game``); also in logs and metrics."""
    token: str | None = constrained(None, max_length=256)
    """Auth token; required when the server is bound to a non-loopback address."""
    services: tuple[str, ...] = constrained(
        ALL_SERVICES, min_length=1, max_length=MAX_SERVICES, items=_SERVICE_NAME
    )
    """The services this session will use (``behaviour``, ``dialogue``, ``agents``, or others the
    server offers); a name the server does not offer is refused with ``bad_hello``."""
    frames: FrameFormat | None = None
    """The frames the client will send; checked against the behaviour model when given."""
    behaviour_every: int = constrained(1, minimum=1, maximum=1000)
    """Push a ``behaviour`` result every this many frames (1: after every frame)."""
    client: str | None = constrained(None, max_length=64)
    """Client name and version, for logs (e.g. ``"gameai-pygame/0.1"``)."""
    record: RecordRequest | None = None
    """Ask the server to record this session's frames and labels for training, with the
    player's consent (absent: never recorded); ``welcome.recording`` answers. Asking is never
    an error: a server that does not record says so there."""


@dataclass(frozen=True, kw_only=True)
class Events(Message):
    """Game events that just happened (kept per session; they condition dialogue)."""

    TYPE: ClassVar[str] = "events"
    events: tuple[str, ...] = constrained(min_length=1, max_length=32, items=_EVENT_NAME)
    """Event names, oldest first (the demo game's are in ``gameai.vocabulary.EVENTS``)."""


@dataclass(frozen=True, kw_only=True)
class DialogueRequest(Message):
    """Ask an NPC to say something; the reply streams as ``dialogue.delta`` then ``dialogue.done``."""

    TYPE: ClassVar[str] = "dialogue.request"
    id: str = constrained(**_ID)
    """Request id, echoed by every reply (unique among requests in flight)."""
    npc_id: str = constrained(**_NAME)
    """The game's id of the NPC (dialogue memory is kept per NPC id)."""
    persona: str | None = constrained(None, min_length=1, max_length=512)
    """A free-text description of the NPC, or the id of a card the server knows; used when
    there is no ``npc`` card and no server card under ``npc_id``."""
    npc: NpcCard | None = None
    """The NPC's card (who it is, how it talks, what it knows); takes precedence over ``persona``."""
    player_line: str = constrained("", max_length=1000)
    """What the player said (empty: the NPC speaks first)."""
    mood: str | None = constrained(None, max_length=64)
    """The NPC's mood (e.g. ``"cheerful"``)."""
    behaviour: str | None = constrained(None, max_length=64)
    """Overrides the recognised player behaviour (default: the session's latest result)."""
    events: tuple[str, ...] = constrained((), max_length=32, items=_EVENT_NAME)
    """Events to add to the session's recent events for this reply."""
    game_state: dict[str, Any] = constrained(factory=dict, max_length=64)  # noqa: RUF009
    """Free-form game state (health, coins, ...); any JSON values."""
    max_new_tokens: int | None = constrained(None, minimum=1, maximum=4096)
    """Most tokens to generate (at most ``limits.max_new_tokens``)."""
    temperature: float | None = constrained(None, minimum=0.0, maximum=2.0)
    """Sampling temperature; 0 is greedy (deterministic)."""
    top_p: float | None = constrained(None, exclusive_minimum=0.0, maximum=1.0)
    """Nucleus sampling mass."""
    seed: int | None = constrained(None, minimum=0, maximum=_UINT32_MAX)
    """Seed for reproducible sampling."""
    stop: tuple[str, ...] = constrained((), max_length=4, items=_STOP_SEQUENCE)
    """Stop sequences: the reply ends before any of them."""
    n: int = constrained(1, minimum=1, maximum=MAX_ALTERNATIVES)
    """Alternative replies to generate for this request, each with its own ``alternative`` index."""


@dataclass(frozen=True, kw_only=True)
class DialogueCancel(Message):
    """Stop a dialogue in flight; its ``dialogue.done`` comes with ``finish_reason: "cancelled"``."""

    TYPE: ClassVar[str] = "dialogue.cancel"
    id: str = constrained(**_ID)
    """The ``id`` of the ``dialogue.request`` to stop."""


@dataclass(frozen=True, kw_only=True)
class Act(Message):
    """Ask an agent for an NPC's next action."""

    TYPE: ClassVar[str] = "act"
    id: str = constrained(**_ID)
    """Request id, echoed by ``action``."""
    npc_id: str = constrained(**_NAME)
    """The NPC the action is for."""
    observation: tuple[float, ...] = constrained(min_length=1, max_length=4096)
    """The agent's observation vector (length ``welcome.agents[agent].obs_dim``)."""
    difficulty: float | None = constrained(None, minimum=0.0, maximum=1.0)
    """Difficulty in [0, 1]; default: the session's difficulty controller decides."""
    agent: str | None = constrained(None, **_NAME)
    """Which agent (a key of ``welcome.agents``); default ``welcome.default_agent``."""


#: Most NPCs one ``act.batch`` may ask for.
MAX_BATCH_ACTS: Final = 64


@dataclass(frozen=True, kw_only=True)
class ActItem:
    """One NPC's part of an ``act.batch``: the fields of an ``act`` but its ``id``."""

    npc_id: str = constrained(**_NAME)
    """The NPC the action is for."""
    observation: tuple[float, ...] = constrained(min_length=1, max_length=4096)
    """The agent's observation vector (length ``welcome.agents[agent].obs_dim``)."""
    difficulty: float | None = constrained(None, minimum=0.0, maximum=1.0)
    """Difficulty in [0, 1]; default: the session's difficulty controller decides."""
    agent: str | None = constrained(None, **_NAME)
    """Which agent (a key of ``welcome.agents``); default ``welcome.default_agent``."""


@dataclass(frozen=True, kw_only=True)
class ActBatch(Message):
    """Ask for the next action of several NPCs in one message (one ``action.batch`` answers).

    What a game with several NPCs deciding on the same tick sends instead of one ``act`` each:
    one message each way instead of one per NPC (the server's and the client's cost per message
    is most of an act's: docs/operations.md, *Capacity*). Every item is checked before any is
    played: one bad item refuses the whole batch with one ``error`` naming it (``acts[2]: ...``).
    """

    TYPE: ClassVar[str] = "act.batch"
    id: str = constrained(**_ID)
    """Request id, echoed by ``action.batch``."""
    acts: tuple[ActItem, ...] = constrained(min_length=1, max_length=MAX_BATCH_ACTS)
    """The NPCs' requests; the answer keeps their order."""


@dataclass(frozen=True, kw_only=True)
class MatchResult(Message):
    """A match or round ended; kept per session, it feeds the difficulty controller."""

    TYPE: ClassVar[str] = "match.result"
    outcome: Literal["win", "loss", "draw"]
    """The outcome from the player's side."""
    id: str | None = constrained(None, **_ID)
    """Optional id, echoed by an ``error`` if the message is refused."""
    npc_id: str | None = constrained(None, **_NAME)
    """The NPC the player played against, if any."""
    player_score: float | None = None
    """The player's score."""
    npc_score: float | None = None
    """The NPC's score."""
    duration_s: float | None = constrained(None, minimum=0.0)
    """How long the match lasted, in seconds."""


@dataclass(frozen=True, kw_only=True)
class Label(Message):
    """What the player is doing from now on, in a recorded session (``welcome.recording``): the
    recorded frames received after this message get this label, until the next ``label``."""

    TYPE: ClassVar[str] = "label"
    label: str | None = constrained(None, min_length=1, max_length=64)
    """One of ``welcome.behaviour.classes``; null or absent: unlabelled from now on (such frames
    are stored but not trained on)."""
    id: str | None = constrained(None, **_ID)
    """Optional id, echoed by an ``error`` if the message is refused."""


@dataclass(frozen=True, kw_only=True)
class Ping(Message):
    """Round-trip probe; answered at once with ``pong``."""

    TYPE: ClassVar[str] = "ping"
    id: str | None = constrained(None, **_ID)
    """Echoed by ``pong``."""
    t: float | None = None
    """Any number (typically the client's clock), echoed by ``pong``."""


# ---------------------------------------------------------------- server -> client


@dataclass(frozen=True, kw_only=True)
class Welcome(Message):
    """The server accepted ``hello``: the session, its models and its limits."""

    TYPE: ClassVar[str] = "welcome"
    protocol: int
    """Protocol version of this session."""
    session_id: str
    """The session's id (it appears in the server's logs)."""
    server: str
    """Server name and version."""
    services: tuple[str, ...]
    """The services of this session (those asked for in ``hello``)."""
    game: GameModelsInfo | None = None
    """Whose models this session got: its game's, or the default set (absent from servers
    before per-game models)."""
    models: dict[str, ModelInfo]
    """Every model of this session's game: ``behaviour``, ``dialogue`` and ``agent/<name>`` per agent."""
    behaviour: BehaviourSpec | None = None
    """Frame format of the session's game's behaviour model (absent when it is unavailable)."""
    agents: dict[str, AgentSpec]
    """The session's game's ready agents by name."""
    default_agent: str | None = None
    """The agent used by ``act`` without ``agent``."""
    npcs: tuple[str, ...] = ()
    """The card ids of the session's game's NPC cards, usable as ``dialogue.request.npc_id``."""
    difficulty: float
    """The session's starting difficulty in [0, 1]."""
    limits: Limits
    """The session's limits."""
    recording: RecordingInfo | None = None
    """Whether this session is recorded (present when ``hello.record`` asked for it)."""


@dataclass(frozen=True, kw_only=True)
class BehaviourResult(Message):
    """The recognised player behaviour, smoothed over the windows up to the latest one (pushed)."""

    TYPE: ClassVar[str] = "behaviour"
    seq: int
    """Sequence number of the newest frame in the window."""
    timestamp: float
    """That frame's header timestamp, echoed (measure end-to-end latency with it)."""
    label: str
    """The recognised behaviour: the most probable one after smoothing, with hysteresis; or
    ``unknown`` when the window's frames do not look like the model's game (``look_score``
    above ``welcome.behaviour.unknown_threshold``)."""
    probabilities: dict[str, float]
    """Smoothed probability per behaviour class (sums to 1). For an ``unknown`` result: the
    model's probabilities for this window alone (an ``unknown`` window never enters the
    smoothing, so it cannot move a later label)."""
    confidence: float = constrained(minimum=0.0, maximum=1.0)
    """The smoothed probability of ``label``; 0 for ``unknown``."""
    latency_ms: float
    """Server time from receiving the frame to sending this result, in milliseconds."""
    dropped_frames: int = 0
    """Frames of this session dropped since the previous result (queue full)."""
    look_score: float | None = None
    """How unlike the model's game the window's frames are: the mean over its frames of the
    distance of their colours to the game's (0: like the game's frames, 1: no colour in
    common); null: the model has no ``unknown`` test."""


@dataclass(frozen=True, kw_only=True)
class DialogueDelta(Message):
    """The next piece of a streamed NPC reply."""

    TYPE: ClassVar[str] = "dialogue.delta"
    id: str
    """The request's id."""
    index: int
    """0, 1, 2... in order (counted per alternative)."""
    text: str
    """The new text; concatenating all deltas of an alternative gives its reply."""
    alternative: int | None = constrained(None, minimum=0, maximum=MAX_ALTERNATIVES - 1)
    """Which of the request's ``n`` replies (0 to n - 1); absent when the request asked for one (0)."""


@dataclass(frozen=True, kw_only=True)
class DialogueDone(Message):
    """A streamed reply ended."""

    TYPE: ClassVar[str] = "dialogue.done"
    id: str
    """The request's id."""
    text: str
    """The full reply."""
    tokens: int
    """Tokens generated."""
    finish_reason: Literal["stop", "length", "cancelled"]
    """``stop``: the model ended or hit a stop sequence; ``length``: ``max_new_tokens``; ``cancelled``."""
    first_token_ms: float | None = None
    """Time from receiving the request to the first delta, in milliseconds."""
    duration_ms: float
    """Time from receiving the request to this message, in milliseconds."""
    tokens_per_s: float
    """Generation speed."""
    alternative: int | None = constrained(None, minimum=0, maximum=MAX_ALTERNATIVES - 1)
    """Which of the request's ``n`` replies ended (0 to n - 1); absent when the request asked for one (0)."""


@dataclass(frozen=True, kw_only=True)
class Action(Message):
    """An agent's action for one NPC."""

    TYPE: ClassVar[str] = "action"
    id: str
    """The request's id."""
    npc_id: str
    """The NPC the action is for."""
    agent: str
    """The agent that chose it."""
    action: tuple[int | float, ...]
    """The action: one int per element of a discrete action (see ``welcome.agents[agent].action_nvec``),
    one float per element of a ``Box`` action, within its bounds."""
    difficulty: float
    """The difficulty the action was chosen at."""
    latency_ms: float
    """Server time from receiving ``act`` to sending this, in milliseconds."""


@dataclass(frozen=True, kw_only=True)
class ActionItem:
    """One NPC's action in an ``action.batch``: the fields of an ``action`` but its ``id`` and latency."""

    npc_id: str
    """The NPC the action is for."""
    agent: str
    """The agent that chose it."""
    action: tuple[int | float, ...]
    """The action (as ``action.action``)."""
    difficulty: float
    """The difficulty the action was chosen at."""


@dataclass(frozen=True, kw_only=True)
class ActionBatch(Message):
    """The actions of an ``act.batch``, in the order of its ``acts``."""

    TYPE: ClassVar[str] = "action.batch"
    id: str
    """The request's id."""
    actions: tuple[ActionItem, ...]
    """One per item of the request's ``acts``, in that order."""
    latency_ms: float
    """Server time from receiving ``act.batch`` to sending this, in milliseconds."""


@dataclass(frozen=True, kw_only=True)
class Error(Message):
    """Something was wrong; fatal errors are followed by a close."""

    TYPE: ClassVar[str] = "error"
    code: ErrorCode
    """What went wrong (see the error code table)."""
    message: str
    """A sentence for the developer."""
    id: str | None = None
    """The ``id`` of the request concerned, when there is one."""
    seq: int | None = None
    """The frame's sequence number, for errors about a frame."""
    fatal: bool = False
    """True when the server closes the connection right after this message."""


@dataclass(frozen=True, kw_only=True)
class Pong(Message):
    """Answer to ``ping``."""

    TYPE: ClassVar[str] = "pong"
    id: str | None = None
    """The ping's id."""
    t: float | None = None
    """The ping's ``t``, echoed."""
    server_time: float
    """The server's wall clock (Unix seconds)."""


#: Messages every session understands, whatever its services (the rest belong to a service).
CORE_CLIENT_MESSAGES: Final[dict[str, type[Message]]] = {
    cls.TYPE: cls for cls in (Hello, Events, MatchResult, Ping)
}
#: Messages a client may send to the built-in services, by ``type``.
CLIENT_MESSAGES: Final[dict[str, type[Message]]] = {
    cls.TYPE: cls
    for cls in (Hello, Events, DialogueRequest, DialogueCancel, Act, ActBatch, MatchResult, Label, Ping)
}
#: Messages the server sends, by ``type``.
SERVER_MESSAGES: Final[dict[str, type[Message]]] = {
    cls.TYPE: cls
    for cls in (Welcome, BehaviourResult, DialogueDelta, DialogueDone, Action, ActionBatch, Error, Pong)
}

ClientMessage = (
    Hello | Events | DialogueRequest | DialogueCancel | Act | ActBatch | MatchResult | Label | Ping
)
ServerMessage = Welcome | BehaviourResult | DialogueDelta | DialogueDone | Action | ActionBatch | Error | Pong

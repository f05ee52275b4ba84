"""The served actor in numpy, for small actors played on the server's event loop.

An :class:`~gameai.agents.actor.ActorNet` of a few hundred thousand weights costs torch more in
dispatch than in arithmetic: 0.29 ms of CPU for one observation of the arena actor, against
0.05 ms for the same product in numpy (2-core machine; docs/operations.md). :class:`NumpyActor`
copies the weights out of a loaded actor and plays the same rule: the same preprocessing, the
same head, the same choice (:meth:`NumpyActor.choose` equals :meth:`ActorNet.choose
<gameai.agents.actor.ActorNet.choose>`: tested on every action space), and the same handicap
chances (freeze to the config's idle action included) drawn from a numpy generator instead of torch's.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from gameai.agents.actor import ActorConfig, ActorNet

Floats = npt.NDArray[np.float32]

_ACTIVATIONS: dict[str, Callable[[Floats], Floats]] = {
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0.0),
    "elu": lambda x: np.where(x > 0.0, x, np.expm1(np.minimum(x, 0.0))).astype(np.float32),
    "leaky_relu": lambda x: np.where(x > 0.0, x, 0.01 * x).astype(np.float32),
}


class NumpyActor:
    """An actor's weights as numpy arrays, and its choice and handicap.

    Args:
        net: The torch actor (its weights are copied; it is not kept).
    """

    def __init__(self, net: ActorNet) -> None:
        config = net.config
        self.config = config
        linears = [m for m in net.body if isinstance(m, nn.Linear)] + [net.head]
        self.layers = [(_array(m.weight).T.copy(), _array(m.bias)) for m in linears]
        """``(weight (in, out), bias (out,))`` per layer, the head last."""
        self.activation = _ACTIVATIONS[config.activation]
        self.obs_mean = _array(net.obs_mean)
        self.obs_scale = _array(net.obs_scale)
        self.normalise = config.obs_mean is not None
        self.low = np.asarray(config.action_low or (), dtype=np.float32)
        self.high = np.asarray(config.action_high or (), dtype=np.float32)
        self.nvec = np.asarray(config.action_nvec, dtype=np.int64)
        self.splits = np.cumsum(config.action_nvec)[:-1] if config.action_nvec else np.zeros(0, np.int64)
        self.idle = np.asarray(config.idle, dtype=np.float32 if config.continuous else np.int64)
        """``(action_dim,)``: the action of a frozen agent."""

    @property
    def parameters(self) -> int:
        """Number of weights (what decides whether an actor is small enough to run on the event loop)."""
        return sum(w.size + b.size for w, b in self.layers)

    def outputs(self, obs: Floats, difficulty: Floats | None = None) -> Floats:
        """The head's outputs, as :meth:`ActorNet.forward <gameai.agents.actor.ActorNet.forward>`.

        Args:
            obs: ``(B, obs_dim)`` float32.
            difficulty: ``(B,)`` in [0, 1], written into ``difficulty_index`` (None: kept).
        """
        index = self.config.difficulty_index
        x = np.asarray(obs, dtype=np.float32)
        if index is not None and difficulty is not None:
            x = x.copy()
            x[:, index] = np.clip(difficulty, 0.0, 1.0)
        if self.normalise:
            clip = self.config.obs_clip
            x = np.clip((x - self.obs_mean) * self.obs_scale, -clip, clip)
        *body, (head_w, head_b) = self.layers
        for weight, bias in body:
            x = self.activation(x @ weight + bias)
        out: Floats = x @ head_w + head_b
        return out

    def choose(self, obs: Floats, difficulty: Floats | None = None) -> np.ndarray:
        """The deterministic choice: ``(B, action_dim)`` int64, or float32 for a Box action."""
        out = self.outputs(obs, difficulty)
        kind = self.config.action_space
        if kind == "MultiBinary":
            return (out > 0.0).astype(np.int64)
        if kind == "Box":
            if self.config.action_squash:
                return (self.low + (np.tanh(out) + 1.0) * 0.5 * (self.high - self.low)).astype(np.float32)
            return np.maximum(np.minimum(out, self.high), self.low)
        branches = np.split(out, self.splits, axis=1)
        return np.stack([branch.argmax(axis=1) for branch in branches], axis=1)

    def act(self, obs: Floats, difficulty: Floats, rng: np.random.Generator) -> np.ndarray:
        """The action played at ``difficulty``: :meth:`choose`, then the handicap."""
        actions = self.choose(obs, difficulty)
        config = self.config
        if not config.has_handicap:
            return actions
        weakness = 1.0 - np.clip(np.asarray(difficulty, dtype=np.float32), 0.0, 1.0)
        freeze_draws: np.ndarray | None = None
        if config.has_arena_handicap:
            actions, freeze_draws = self._spoil(actions, weakness, rng)
        if config.freeze > 0.0 and freeze_draws is None:
            freeze_draws = rng.random(len(actions))
        if config.random_action > 0.0:
            replace = rng.random(actions.shape) < config.random_action * weakness[:, None]
            uniform = rng.random(actions.shape)
            if config.continuous:
                random = (self.low + uniform * (self.high - self.low)).astype(np.float32)
            else:
                random = np.minimum((uniform * self.nvec).astype(np.int64), self.nvec - 1)
            actions = np.where(replace, random, actions)
        if config.freeze > 0.0:
            assert freeze_draws is not None
            actions = np.where((freeze_draws < config.freeze * weakness)[:, None], self.idle, actions)
        return actions

    def _spoil(
        self, actions: np.ndarray, weakness: Floats, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """The arena's move/fire chances (:func:`gameai.agents.actor.spoil_actions`' rule).

        Returns:
            The spoiled actions, and ``(B,)`` uniform draws for the freeze (drawn with the others).
        """
        config = self.config
        played = actions.copy()
        draws = rng.random((len(actions), 6))  # hold, scramble, shot, slip, move, freeze
        n_moves, n_fire = config.action_nvec[0], config.action_nvec[1]
        slip = draws[:, 3] < config.slip_move * weakness
        random_move = np.minimum((draws[:, 4] * n_moves).astype(np.int64), n_moves - 1)
        played[:, 0] = np.where(slip, random_move, played[:, 0])
        fire = played[:, 1]
        scramble = (fire > 0) & (draws[:, 1] < config.scramble_aim * weakness)
        random_shot = 1 + np.minimum((draws[:, 2] * (n_fire - 1)).astype(np.int64), n_fire - 2)
        fire = np.where(scramble, random_shot, fire)
        hold = (fire > 0) & (draws[:, 0] < config.hold_fire * weakness)
        played[:, 1] = np.where(hold, 0, fire)
        return played, draws[:, 5]


def _array(tensor: torch.Tensor) -> Floats:
    return tensor.detach().to("cpu", torch.float32).numpy().copy()


def small_enough(config: ActorConfig, max_parameters: int) -> bool:
    """Whether an actor of this shape has at most ``max_parameters`` weights."""
    widths = [config.obs_dim, *config.hidden_sizes, config.head_size]
    return sum(a * b + b for a, b in itertools.pairwise(widths)) <= max_parameters

"""The simulation's compiled kernels: reset and step N arenas in one call.

Every kernel loops over the arenas inside compiled code, so stepping N arenas costs
no Python per arena, and arena i's result never depends on the others (nor on N).
The arrays are described in :mod:`demo_game.sim.fields`; the Python facade is
:class:`demo_game.sim.simulation.ArenaSimulation`.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from demo_game.sim.counter_rng import Stream, uniform
from demo_game.sim.fields import (
    ActorField,
    ArenaField,
    BulletField,
    ControlField,
    Event,
    FriendlyField,
    Outcome,
    PickupField,
    PickupKind,
)
from demo_game.sim.geometry import point_in_walls, push_out_of_walls
from demo_game.sim.jit import kernel
from demo_game.sim.layouts import (
    ARENA_HEIGHT,
    FRIENDLY_SPOTS,
    LAYOUT_PICKUP_SPOTS,
    LAYOUT_WALLS,
    layout_walls,
)
from demo_game.sim.rules import Rule

FloatArray = npt.NDArray[np.float64]

_SPAWN_TRIES = 24
_PLAYER_SPAWN_X = (30.0, 200.0)
_ENEMY_SPAWN_X = (440.0, 610.0)
# Enum values as plain floats, for storing in the float state arrays.
_HEALTH_KIND = float(PickupKind.HEALTH)
_COIN_KIND = float(PickupKind.COIN)
_RUNNING = float(Outcome.RUNNING)
_WIN = float(Outcome.WIN)
_LOSS = float(Outcome.LOSS)
_TIMEOUT = float(Outcome.TIMEOUT)


@kernel
def _free_position(
    key: np.uint64,
    tick: int,
    stream: int,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    margin: float,
    walls: FloatArray,
) -> tuple[float, float]:
    """Draw a point in the box that is at least ``margin`` from every wall.

    Falls back to the box's centre line after a fixed number of rejected tries, so the
    cost is bounded and the result stays deterministic.
    """
    x = 0.5 * (x_range[0] + x_range[1])
    y = 0.5 * (y_range[0] + y_range[1])
    for attempt in range(_SPAWN_TRIES):
        cx = x_range[0] + (x_range[1] - x_range[0]) * uniform(key, tick, stream + 2 * attempt)
        cy = y_range[0] + (y_range[1] - y_range[0]) * uniform(key, tick, stream + 2 * attempt + 1)
        if not point_in_walls(cx, cy, margin, walls):
            return cx, cy
    return x, y


@kernel
def _spawn_pickup(
    pickups: FloatArray, i: int, p: int, key: np.uint64, tick: int, layout: int, rules: FloatArray
) -> None:
    """Put pickup ``p`` on a random spot of the layout that no other active pickup holds."""
    spots = LAYOUT_PICKUP_SPOTS[layout]
    n_spots = spots.shape[0]
    stream = Stream.PICKUPS + 4 * p
    start = min(int(uniform(key, tick, stream) * n_spots), n_spots - 1)
    chosen = start
    for offset in range(n_spots):
        spot = (start + offset) % n_spots
        taken = False
        for q in range(pickups.shape[1]):
            if (
                q != p
                and pickups[i, q, PickupField.ACTIVE] > 0.5
                and pickups[i, q, PickupField.X] == spots[spot, 0]
                and pickups[i, q, PickupField.Y] == spots[spot, 1]
            ):
                taken = True
                break
        if not taken:
            chosen = spot
            break
    pickups[i, p, PickupField.X] = spots[chosen, 0]
    pickups[i, p, PickupField.Y] = spots[chosen, 1]
    is_health = uniform(key, tick, stream + 1) < rules[Rule.HEALTH_PICKUP_SHARE]
    pickups[i, p, PickupField.KIND] = _HEALTH_KIND if is_health else _COIN_KIND
    pickups[i, p, PickupField.ACTIVE] = 1.0
    pickups[i, p, PickupField.TIMER] = 0.0


@kernel
def reset_arenas(
    mask: npt.NDArray[np.bool_],
    new_keys: npt.NDArray[np.uint64],
    layout_choice: npt.NDArray[np.int64],
    arena: FloatArray,
    keys: npt.NDArray[np.uint64],
    actors: FloatArray,
    bullets: FloatArray,
    pickups: FloatArray,
    friendlies: FloatArray,
    events: npt.NDArray[np.int32],
    rules: FloatArray,
) -> None:
    """Start a new match in every arena ``i`` with ``mask[i]``.

    Args:
        mask: (N,) which arenas to reset.
        new_keys: (N,) the episode key of each reset arena (random numbers derive from it).
        layout_choice: (N,) layout index to use, or -1 to draw one from the key.
        arena, keys, actors, bullets, pickups, friendlies, events: the state, updated in place.
        rules: :meth:`ArenaRules.as_array`.
    """
    n_layouts = LAYOUT_WALLS.shape[0]
    radius = rules[Rule.ACTOR_RADIUS]
    for i in range(arena.shape[0]):
        if not mask[i]:
            continue
        key = new_keys[i]
        keys[i] = key
        layout = layout_choice[i]
        if layout < 0:
            layout = min(int(uniform(key, 0, Stream.RESET) * n_layouts), n_layouts - 1)
        walls = layout_walls(layout)
        arena[i, :] = 0.0
        arena[i, ArenaField.LAYOUT] = layout
        events[i, :] = 0
        for a in range(actors.shape[1]):
            x_range = _PLAYER_SPAWN_X if a == 0 else _ENEMY_SPAWN_X
            stream = Stream.RESET + 1 + 64 * a
            x, y = _free_position(key, 0, stream, x_range, (30.0, ARENA_HEIGHT - 30.0), radius + 6.0, walls)
            actors[i, a, :] = 0.0
            actors[i, a, ActorField.X] = x
            actors[i, a, ActorField.Y] = y
            actors[i, a, ActorField.AIM] = 0.0 if a == 0 else math.pi
            actors[i, a, ActorField.HEALTH] = (
                rules[Rule.PLAYER_HEALTH] if a == 0 else rules[Rule.ENEMY_HEALTH]
            )
            actors[i, a, ActorField.ALIVE] = 1.0
        bullets[i, :, :] = 0.0
        bullets[i, :, BulletField.OWNER] = -1.0
        pickups[i, :, :] = 0.0  # nothing of the last match may steer where pickups appear
        for p in range(pickups.shape[1]):
            _spawn_pickup(pickups, i, p, key, 0, layout, rules)
        for f in range(friendlies.shape[1]):
            friendlies[i, f, FriendlyField.X] = FRIENDLY_SPOTS[f, 0]
            friendlies[i, f, FriendlyField.Y] = FRIENDLY_SPOTS[f, 1]
            friendlies[i, f, FriendlyField.TALK] = 0.0


@kernel
def _move_actor(
    i: int, a: int, actors: FloatArray, controls: FloatArray, rules: FloatArray, walls: FloatArray
) -> bool:
    """Apply one actor's movement controls; return whether it started a dash."""
    radius = rules[Rule.ACTOR_RADIUS]
    mx = controls[i, a, ControlField.MOVE_X]
    my = controls[i, a, ControlField.MOVE_Y]
    norm = math.sqrt(mx * mx + my * my)
    if norm > 1.0:
        mx /= norm
        my /= norm
        norm = 1.0
    speed = rules[Rule.PLAYER_SPEED] if a == 0 else rules[Rule.ENEMY_SPEED]
    dashed = False
    if controls[i, a, ControlField.DASH] > 0.5 and actors[i, a, ActorField.DASH_COOLDOWN] <= 0.0:
        actors[i, a, ActorField.DASH_LEFT] = rules[Rule.DASH_TICKS]
        actors[i, a, ActorField.DASH_COOLDOWN] = rules[Rule.DASH_COOLDOWN]
        actors[i, a, ActorField.DASHES] += 1.0
        dashed = True
    vx = actors[i, a, ActorField.VX]
    vy = actors[i, a, ActorField.VY]
    if actors[i, a, ActorField.DASH_LEFT] > 0.0:
        # A dash runs at full boosted speed along the input, or along the aim without input.
        if norm < 1e-6:
            mx = math.cos(actors[i, a, ActorField.AIM])
            my = math.sin(actors[i, a, ActorField.AIM])
        else:
            mx /= norm
            my /= norm
        dash_speed = speed * rules[Rule.DASH_SPEED_FACTOR]
        vx = mx * dash_speed
        vy = my * dash_speed
        actors[i, a, ActorField.DASH_LEFT] -= 1.0
    else:
        accel = rules[Rule.ACCELERATION]
        vx += (mx * speed - vx) * accel
        vy += (my * speed - vy) * accel
    x0 = actors[i, a, ActorField.X]
    y0 = actors[i, a, ActorField.Y]
    x, y, vx, vy = push_out_of_walls(x0 + vx, y0 + vy, vx, vy, radius, walls)
    actors[i, a, ActorField.X] = x
    actors[i, a, ActorField.Y] = y
    actors[i, a, ActorField.VX] = vx
    actors[i, a, ActorField.VY] = vy
    actors[i, a, ActorField.DISTANCE] += math.sqrt((x - x0) ** 2 + (y - y0) ** 2)
    return dashed


@kernel
def _fire(i: int, a: int, actors: FloatArray, bullets: FloatArray, rules: FloatArray) -> bool:
    """Fire a bullet from actor ``a`` along its aim if a slot is free; return whether it fired."""
    slot = -1
    for b in range(bullets.shape[1]):
        if bullets[i, b, BulletField.OWNER] < 0.0:
            slot = b
            break
    if slot < 0:
        return False
    aim = actors[i, a, ActorField.AIM]
    dx = math.cos(aim)
    dy = math.sin(aim)
    offset = rules[Rule.ACTOR_RADIUS] + rules[Rule.BULLET_RADIUS] + 1.0
    speed = rules[Rule.PLAYER_BULLET_SPEED] if a == 0 else rules[Rule.ENEMY_BULLET_SPEED]
    bullets[i, slot, BulletField.X] = actors[i, a, ActorField.X] + dx * offset
    bullets[i, slot, BulletField.Y] = actors[i, a, ActorField.Y] + dy * offset
    bullets[i, slot, BulletField.VX] = dx * speed
    bullets[i, slot, BulletField.VY] = dy * speed
    bullets[i, slot, BulletField.OWNER] = float(a)
    bullets[i, slot, BulletField.TTL] = rules[Rule.BULLET_TTL]
    actors[i, a, ActorField.FIRE_COOLDOWN] = (
        rules[Rule.PLAYER_FIRE_COOLDOWN] if a == 0 else rules[Rule.ENEMY_FIRE_COOLDOWN]
    )
    actors[i, a, ActorField.SHOTS] += 1.0
    return True


@kernel
def _update_bullets(
    i: int, arena: FloatArray, actors: FloatArray, bullets: FloatArray, events: npt.NDArray[np.int32],
    rules: FloatArray, walls: FloatArray,
) -> None:  # fmt: skip
    """Move bullets, expire them on walls and borders, and apply hits."""
    hit_distance = rules[Rule.ACTOR_RADIUS] + rules[Rule.BULLET_RADIUS]
    hit_distance2 = hit_distance * hit_distance
    for b in range(bullets.shape[1]):
        owner = int(bullets[i, b, BulletField.OWNER])
        if owner < 0:
            continue
        x = bullets[i, b, BulletField.X] + bullets[i, b, BulletField.VX]
        y = bullets[i, b, BulletField.Y] + bullets[i, b, BulletField.VY]
        bullets[i, b, BulletField.X] = x
        bullets[i, b, BulletField.Y] = y
        bullets[i, b, BulletField.TTL] -= 1.0
        if bullets[i, b, BulletField.TTL] <= 0.0 or point_in_walls(x, y, 0.0, walls):
            bullets[i, b, BulletField.OWNER] = -1.0
            continue
        for t in range(actors.shape[1]):
            if (t == 0) == (owner == 0) or actors[i, t, ActorField.ALIVE] < 0.5:
                continue
            dx = actors[i, t, ActorField.X] - x
            dy = actors[i, t, ActorField.Y] - y
            if dx * dx + dy * dy >= hit_distance2:
                continue
            damage = rules[Rule.PLAYER_BULLET_DAMAGE] if owner == 0 else rules[Rule.ENEMY_BULLET_DAMAGE]
            damage = min(damage, actors[i, t, ActorField.HEALTH])
            actors[i, t, ActorField.HEALTH] -= damage
            actors[i, t, ActorField.DAMAGE_TAKEN] += damage
            actors[i, t, ActorField.HURT] = rules[Rule.HURT_FLASH_TICKS]
            actors[i, owner, ActorField.DAMAGE_DEALT] += damage
            actors[i, owner, ActorField.HITS] += 1.0
            killed = actors[i, t, ActorField.HEALTH] <= 0.0
            if killed:
                actors[i, t, ActorField.ALIVE] = 0.0
                actors[i, t, ActorField.VX] = 0.0
                actors[i, t, ActorField.VY] = 0.0
            if owner == 0:
                events[i, Event.HIT] += 1
                arena[i, ArenaField.SCORE] += rules[Rule.SCORE_HIT]
                if killed:
                    events[i, Event.KILL] += 1
                    arena[i, ArenaField.SCORE] += rules[Rule.SCORE_KILL]
            else:
                events[i, Event.HURT] += 1
                if killed:
                    events[i, Event.DEATH] += 1
            bullets[i, b, BulletField.OWNER] = -1.0
            break


@kernel
def _update_pickups(
    i: int, arena: FloatArray, keys: npt.NDArray[np.uint64], actors: FloatArray, pickups: FloatArray,
    events: npt.NDArray[np.int32], rules: FloatArray,
) -> None:  # fmt: skip
    """Let the player take pickups in reach; respawn taken ones when their timer runs out."""
    tick = int(arena[i, ArenaField.TICK])
    reach = rules[Rule.ACTOR_RADIUS] + rules[Rule.PICKUP_RADIUS]
    player_alive = actors[i, 0, ActorField.ALIVE] > 0.5
    px = actors[i, 0, ActorField.X]
    py = actors[i, 0, ActorField.Y]
    for p in range(pickups.shape[1]):
        if pickups[i, p, PickupField.ACTIVE] < 0.5:
            pickups[i, p, PickupField.TIMER] -= 1.0
            if pickups[i, p, PickupField.TIMER] <= 0.0:
                _spawn_pickup(pickups, i, p, keys[i], tick, int(arena[i, ArenaField.LAYOUT]), rules)
            continue
        dx = pickups[i, p, PickupField.X] - px
        dy = pickups[i, p, PickupField.Y] - py
        if not player_alive or dx * dx + dy * dy >= reach * reach:
            continue
        if pickups[i, p, PickupField.KIND] == _HEALTH_KIND:
            health = actors[i, 0, ActorField.HEALTH] + rules[Rule.HEALTH_PICKUP_AMOUNT]
            actors[i, 0, ActorField.HEALTH] = min(health, rules[Rule.PLAYER_HEALTH])
            arena[i, ArenaField.PICKUPS_HEALTH] += 1.0
            events[i, Event.PICKUP_HEALTH] += 1
        else:
            arena[i, ArenaField.SCORE] += rules[Rule.SCORE_COIN]
            arena[i, ArenaField.PICKUPS_COIN] += 1.0
            events[i, Event.PICKUP_COIN] += 1
        pickups[i, p, PickupField.ACTIVE] = 0.0
        pickups[i, p, PickupField.TIMER] = rules[Rule.PICKUP_RESPAWN_TICKS]


@kernel
def _talk(
    i: int, arena: FloatArray, actors: FloatArray, friendlies: FloatArray, controls: FloatArray,
    events: npt.NDArray[np.int32], rules: FloatArray,
) -> None:  # fmt: skip
    """Count down talk highlights; start one if the player talks with an NPC in reach."""
    for f in range(friendlies.shape[1]):
        friendlies[i, f, FriendlyField.TALK] = max(friendlies[i, f, FriendlyField.TALK] - 1.0, 0.0)
    if controls[i, 0, ControlField.TALK] <= 0.5 or actors[i, 0, ActorField.ALIVE] < 0.5:
        return
    nearest = -1
    nearest_d2 = rules[Rule.TALK_RADIUS] ** 2
    for f in range(friendlies.shape[1]):
        dx = friendlies[i, f, FriendlyField.X] - actors[i, 0, ActorField.X]
        dy = friendlies[i, f, FriendlyField.Y] - actors[i, 0, ActorField.Y]
        d2 = dx * dx + dy * dy
        if d2 <= nearest_d2:
            nearest = f
            nearest_d2 = d2
    if nearest >= 0:
        friendlies[i, nearest, FriendlyField.TALK] = rules[Rule.TALK_TICKS]
        arena[i, ArenaField.TALKS] += 1.0
        events[i, Event.TALK] += 1


@kernel
def step_arena(
    i: int,
    controls: FloatArray,
    arena: FloatArray,
    keys: npt.NDArray[np.uint64],
    actors: FloatArray,
    bullets: FloatArray,
    pickups: FloatArray,
    friendlies: FloatArray,
    events: npt.NDArray[np.int32],
    rules: FloatArray,
) -> None:
    """Advance arena ``i`` by one tick if its match is running (see :func:`step_arenas`).

    A building block for kernels that do more per arena (the envs' fused step).
    """
    if arena[i, ArenaField.OUTCOME] != _RUNNING:
        return
    arena[i, ArenaField.TICK] += 1.0
    walls = layout_walls(int(arena[i, ArenaField.LAYOUT]))
    for e in range(events.shape[1]):
        events[i, e] = 0
    for a in range(actors.shape[1]):
        actors[i, a, ActorField.DAMAGE_DEALT] = 0.0
        actors[i, a, ActorField.DAMAGE_TAKEN] = 0.0
        actors[i, a, ActorField.HURT] = max(actors[i, a, ActorField.HURT] - 1.0, 0.0)
        if actors[i, a, ActorField.ALIVE] < 0.5:
            continue
        actors[i, a, ActorField.FIRE_COOLDOWN] = max(actors[i, a, ActorField.FIRE_COOLDOWN] - 1.0, 0.0)
        actors[i, a, ActorField.DASH_COOLDOWN] = max(actors[i, a, ActorField.DASH_COOLDOWN] - 1.0, 0.0)
        if _move_actor(i, a, actors, controls, rules, walls) and a == 0:
            events[i, Event.DASH] += 1
        actors[i, a, ActorField.AIM] = controls[i, a, ControlField.AIM]
        if (
            controls[i, a, ControlField.FIRE] > 0.5
            and actors[i, a, ActorField.FIRE_COOLDOWN] <= 0.0
            and _fire(i, a, actors, bullets, rules)
            and a == 0
        ):
            events[i, Event.FIRE] += 1
    _update_bullets(i, arena, actors, bullets, events, rules, walls)
    _update_pickups(i, arena, keys, actors, pickups, events, rules)
    _talk(i, arena, actors, friendlies, controls, events, rules)

    enemies_alive = 0
    for a in range(1, actors.shape[1]):
        if actors[i, a, ActorField.ALIVE] > 0.5:
            enemies_alive += 1
    if actors[i, 0, ActorField.ALIVE] < 0.5:
        arena[i, ArenaField.OUTCOME] = _LOSS
        events[i, Event.LOSS] += 1
    elif enemies_alive == 0:
        arena[i, ArenaField.OUTCOME] = _WIN
        arena[i, ArenaField.SCORE] += rules[Rule.SCORE_WIN]
        events[i, Event.WIN] += 1
    elif arena[i, ArenaField.TICK] >= rules[Rule.MATCH_TICKS]:
        arena[i, ArenaField.OUTCOME] = _TIMEOUT
        events[i, Event.TIMEOUT] += 1


@kernel
def step_arenas(
    active: npt.NDArray[np.bool_],
    controls: FloatArray,
    arena: FloatArray,
    keys: npt.NDArray[np.uint64],
    actors: FloatArray,
    bullets: FloatArray,
    pickups: FloatArray,
    friendlies: FloatArray,
    events: npt.NDArray[np.int32],
    rules: FloatArray,
) -> None:
    """Advance every running arena by one tick; finished arenas are left untouched.

    Args:
        active: (N,) arenas to step; the others are left untouched too.
        controls: (N, A, len(ControlField)) what each actor does this tick.
        arena, keys, actors, bullets, pickups, friendlies, events: the state, updated in place.
            ``events`` and the actors' DAMAGE_DEALT/DAMAGE_TAKEN are cleared first and then
            describe this tick alone.
        rules: :meth:`ArenaRules.as_array`.
    """
    for i in range(arena.shape[0]):
        if active[i]:
            step_arena(i, controls, arena, keys, actors, bullets, pickups, friendlies, events, rules)

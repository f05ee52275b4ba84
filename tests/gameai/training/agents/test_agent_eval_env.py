"""``gameai eval agent --env``: the served agent's return in a Gymnasium env, per difficulty."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces

from gameai.agents.actor import ActorConfig, ActorNet, load_actor, save_actor
from gameai.cli import main
from gameai.training.agents import evaluate_env
from gameai.training.agents.config import EvalAgentConfig
from gameai.training.agents.evaluate_env import (
    EnvChoice,
    check_actor_fits,
    environment_of,
    evaluate_in_env,
)

CARTPOLE = ActorConfig(
    obs_dim=4, action_space="Discrete", action_nvec=(2,), hidden_sizes=(8,), random_action=0.6
)
FIVE_OBS = ActorConfig(obs_dim=5, action_space="Discrete", action_nvec=(2,))
PENDULUM = ActorConfig(
    obs_dim=3, action_space="Box", action_nvec=(), action_low=(-2.0,), action_high=(2.0,), hidden_sizes=(8,)
)


def _agent(directory: Path, config: ActorConfig = CARTPOLE, seed: int = 3, **metadata: Any) -> Path:
    torch.manual_seed(seed)
    save_actor(directory, ActorNet(config), metadata)
    return directory


def _hand_played(net: ActorNet, env_id: str, seeds: list[int]) -> list[float]:
    """One env, one episode at a time, at difficulty 1: what the report's returns must be."""
    env = gym.make(env_id)
    returns = []
    for seed in seeds:
        obs, _ = env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            with torch.no_grad():
                action = net.act(torch.from_numpy(obs[None].astype(np.float32)), torch.ones(1))[0].numpy()
            played = int(action[0]) if net.config.action_space == "Discrete" else action
            obs, reward, terminated, truncated, _ = env.step(played)
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    env.close()
    return returns


def test_the_report_has_a_level_per_difficulty_and_plays_as_a_hand_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    actor = load_actor(_agent(tmp_path / "cartpole"))
    config = EvalAgentConfig(
        agent_dir=str(actor.directory), env="CartPole-v1", episodes=5, seed=7, difficulties=(0.0, 1.0)
    )
    report = evaluate_in_env(config, actor, EnvChoice("CartPole-v1", "option"))
    assert report["env"] == "CartPole-v1" and report["env_source"] == "option"
    assert report["episodes_per_level"] == 5 and report["handicap"]["random_action"] == 0.6
    assert [level["difficulty"] for level in report["levels"]] == [0.0, 1.0]
    for level in report["levels"]:
        returns = np.asarray(level["returns"])
        assert level["episodes"] == len(returns) == 5
        assert level["mean_return"] == pytest.approx(returns.mean())
        assert level["std_return"] == pytest.approx(returns.std())
        assert (level["min_return"], level["max_return"]) == (returns.min(), returns.max())
        assert level["mean_length"] == pytest.approx(returns.mean())  # CartPole: +1 a step
    assert report["levels"][1]["returns"] == _hand_played(actor.net, "CartPole-v1", list(range(7, 12)))
    again = evaluate_in_env(config, actor, EnvChoice("CartPole-v1", "option"))
    assert [level["returns"] for level in again["levels"]] == [level["returns"] for level in report["levels"]]
    monkeypatch.setattr(evaluate_env, "MAX_ENVS", 2)  # 2 + 2 + 1 episodes side by side: the same at d = 1
    batched = evaluate_in_env(config, actor, EnvChoice("CartPole-v1", "option"))
    assert batched["levels"][1]["returns"] == report["levels"][1]["returns"]


def test_a_box_agent_plays_pendulum(tmp_path: Path) -> None:
    actor = load_actor(_agent(tmp_path / "pendulum", PENDULUM))
    config = EvalAgentConfig(
        agent_dir=str(actor.directory), env="Pendulum-v1", episodes=2, difficulties=(1.0,)
    )
    report = evaluate_in_env(config, actor, EnvChoice("Pendulum-v1", "option"))
    (level,) = report["levels"]
    assert level["mean_length"] == 200 and level["max_return"] < 0
    assert level["returns"] == pytest.approx(_hand_played(actor.net, "Pendulum-v1", [0, 1]), rel=1e-6)


BOX_4 = spaces.Box(-1.0, 1.0, shape=(4,), dtype=np.float32)


@pytest.mark.parametrize(
    ("config", "action_space", "words"),
    [
        (FIVE_OBS, spaces.Discrete(2), ("5", "4")),
        (replace(CARTPOLE, action_nvec=(3,)), spaces.Discrete(2), ("Discrete(3)", "Discrete(2)")),
        (ActorConfig(obs_dim=4, action_nvec=(3, 2)), spaces.MultiDiscrete([3, 3]), ("(3, 2)", "[3 3]")),
        (replace(PENDULUM, obs_dim=4), spaces.Box(-1, 1, shape=(2,)), ("Box(1 values)", "(2,)")),
        (replace(CARTPOLE, action_space="MultiBinary"), spaces.Discrete(2), ("MultiBinary(1)",)),
        (CARTPOLE, spaces.Dict({"a": spaces.Discrete(2)}), ("none an actor plays",)),
    ],
)
def test_an_agent_that_does_not_fit_is_a_one_line_value_error(
    config: ActorConfig, action_space: spaces.Space[Any], words: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError) as caught:
        check_actor_fits(config, BOX_4, action_space, "agent x on Env-v0")
    message = str(caught.value)
    assert "\n" not in message and message.startswith("agent x on Env-v0: ")
    assert all(word in message for word in words), message


def test_agents_that_fit_pass_the_check() -> None:
    check_actor_fits(CARTPOLE, BOX_4, spaces.Discrete(2, start=-1), "cartpole")
    check_actor_fits(PENDULUM, spaces.Box(-1, 1, shape=(3,)), spaces.Box(-2, 2, shape=(1,)), "pendulum")
    check_actor_fits(ActorConfig(obs_dim=4, action_nvec=(3, 2)), BOX_4, spaces.MultiDiscrete([3, 2]), "md")
    multi_binary = ActorConfig(obs_dim=4, action_space="MultiBinary", action_nvec=(2,) * 4)
    check_actor_fits(multi_binary, BOX_4, spaces.MultiBinary([2, 2]), "mb")
    one_branch = ActorConfig(obs_dim=4, action_nvec=(2,))
    check_actor_fits(one_branch, spaces.Discrete(4), spaces.MultiDiscrete([2]), "one-hot observations")


def test_env_actions_add_the_start_and_take_the_space_shape() -> None:
    actions = np.array([[0], [1]])
    assert evaluate_env.env_actions(actions, spaces.Discrete(2, start=-1)).tolist() == [-1, 0]
    grid = spaces.MultiDiscrete(np.full((2, 2), 3), start=np.array([[1, 1], [0, 0]]))
    assert evaluate_env.env_actions(np.array([[1, 0, 2, 1]]), grid).tolist() == [[[2, 1], [2, 1]]]
    box = spaces.Box(-1, 1, shape=(2,), dtype=np.float64)
    played = evaluate_env.env_actions(np.array([[0.5, 1.0]], dtype=np.float32), box)
    assert played.dtype == np.float64 and played.shape == (1, 2)


def test_the_env_comes_from_the_option_then_a_non_arena_env_id(tmp_path: Path) -> None:
    plain = load_actor(_agent(tmp_path / "plain"))
    cartpole = load_actor(_agent(tmp_path / "cp", env_id="CartPole-v1"))
    arena = load_actor(_agent(tmp_path / "arena", env_id="gameai/Arena-v0"))
    module = load_actor(_agent(tmp_path / "mod", env_id="Duel-v0", trained_with={"env": "mygame:Duel-v0"}))
    a_class = load_actor(
        _agent(tmp_path / "cls", env_id="mygame.Dodge", trained_with={"env": "mygame:Dodge"})
    )
    assert environment_of(EvalAgentConfig(), plain) is None
    assert environment_of(EvalAgentConfig(), arena) is None
    assert environment_of(EvalAgentConfig(env="Pendulum-v1"), cartpole) == EnvChoice("Pendulum-v1", "option")
    assert environment_of(EvalAgentConfig(), cartpole) == EnvChoice("CartPole-v1", "metadata")
    assert environment_of(EvalAgentConfig(), module) == EnvChoice("mygame:Duel-v0", "metadata")
    assert environment_of(EvalAgentConfig(), a_class) == EnvChoice("mygame:Dodge", "metadata")


def test_the_cli_prints_a_json_report_and_says_where_the_env_came_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = _agent(tmp_path / "cp", env_id="CartPole-v1")
    args = ["eval", "agent", "--agent-dir", str(agent), "--episodes", "3", "--json"]
    status = main([*args, "--difficulties", "0", "0.5", "1"])
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert status == 0 and report["env"] == "CartPole-v1" and report["env_source"] == "metadata"
    assert [level["difficulty"] for level in report["levels"]] == [0.0, 0.5, 1.0]
    assert "CartPole-v1" in err and "metadata" in err
    assert main(["eval", "agent", "--agent-dir", str(agent), "--env", "CartPole-v1", "--episodes", "2"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert "on CartPole-v1, 2 episodes per level" in table[0] and "mean return" in table[1]
    assert len(table) == 2 + len(EvalAgentConfig.difficulties)


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ("CartPole-v1", ("5 observation values", "gives 4")),
        ("NoSuchEnv-v0", ("--env NoSuchEnv-v0",)),
        (None, ("in the arena", "44")),
    ],
)
def test_the_cli_turns_a_mismatch_into_one_line_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], env: str | None, words: tuple[str, ...]
) -> None:
    agent = _agent(tmp_path / "five", FIVE_OBS)
    assert main(["eval", "agent", "--agent-dir", str(agent), *(["--env", env] if env else [])]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith("gameai eval agent: ") and all(word in err for word in words), err


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_the_served_agent_scores_through_the_server_what_it_scores_in_process(tmp_path: Path) -> None:
    """A CartPole agent trained here (PPO, 20k steps), served, ``act`` every step: the same returns."""
    from stable_baselines3 import PPO

    from gameai.client.async_client import ClientConfig, GameAIClient
    from gameai.runtime.config import RuntimeConfig
    from gameai.server.config import ServerConfig
    from gameai.testing.servers import running_server
    from gameai.training.agents.export import ActorSpec, actor_from_policy

    torch.set_num_threads(1)
    model = PPO("MlpPolicy", "CartPole-v1", n_steps=256, batch_size=64, seed=0, device="cpu")
    model.learn(20_000)
    agents = tmp_path / "agents"
    save_actor(agents / "cartpole", actor_from_policy(model.policy, ActorSpec()), {"env_id": "CartPole-v1"})
    actor = load_actor(agents / "cartpole")
    config = EvalAgentConfig(agent_dir=str(actor.directory), episodes=4, seed=100, difficulties=(1.0,))
    in_process = evaluate_in_env(config, actor, EnvChoice("CartPole-v1", "metadata"))["levels"][0]["returns"]

    runtime = RuntimeConfig(behaviour_model="", dialogue_model="", agents_dir=str(agents), device="cpu")
    served = []
    env = gym.make("CartPole-v1")
    async with running_server(ServerConfig(port=0, max_messages_per_s=100_000.0), runtime) as server:
        client = await GameAIClient.connect(ClientConfig(url=server.url, services=("agents",)))
        assert client.welcome.agents["cartpole"].obs_dim == 4
        for seed in range(100, 104):
            obs, _ = env.reset(seed=seed)
            total, done = 0.0, False
            while not done:
                answer = await client.act("pole", obs, difficulty=1.0, agent="cartpole")
                obs, reward, terminated, truncated, _ = env.step(int(answer.action[0]))
                total += float(reward)
                done = terminated or truncated
            served.append(total)
        await client.close()
    env.close()
    assert served == in_process
    assert np.mean(served) > 100, served  # it learned something: the test compares real play


class _Coin(gym.Env[np.ndarray, np.int64]):
    """One step: action 1 wins (``info["is_success"]``, Gymnasium's convention), 0 loses."""

    observation_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
    action_space = spaces.Discrete(2)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        return np.zeros(1, np.float32), {}

    def step(self, action: np.int64) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        return np.zeros(1, np.float32), float(action), True, False, {"is_success": bool(action == 1)}


COIN = "tests/Coin-v0"
if COIN not in gym.registry:
    gym.register(id=COIN, entry_point=_Coin)


def _coin_agent(directory: Path, choice: int, idle: int) -> Path:
    """An agent that always chooses ``choice``, frozen to ``idle`` with chance 1 - d."""
    config = ActorConfig(
        obs_dim=1, action_space="Discrete", action_nvec=(2,), hidden_sizes=(), freeze=1.0, idle_action=(idle,)
    )
    net = ActorNet(config)
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.copy_(torch.tensor([0.0, 5.0] if choice == 1 else [5.0, 0.0]))
    save_actor(directory, net)
    return directory


def test_an_env_that_reports_success_gets_a_success_rate_per_level(tmp_path: Path) -> None:
    actor = load_actor(_coin_agent(tmp_path / "coin", choice=1, idle=0))
    config = EvalAgentConfig(
        agent_dir=str(actor.directory), env=COIN, episodes=40, difficulties=(0.0, 0.5, 1.0)
    )
    report = evaluate_in_env(config, actor, EnvChoice(COIN, "option"))
    rates = [level["success_rate"] for level in report["levels"]]
    assert rates[0] == 0.0 and 0.25 < rates[1] < 0.75 and rates[2] == 1.0  # frozen with chance 1 - d
    assert report["levels"][1]["successes"] == [r == 1.0 for r in report["levels"][1]["returns"]]
    assert report["monotone"] and report["strictly_increasing"]
    assert report["handicap"]["freeze"] == 1.0 and report["handicap"]["idle_action"] == [0]
    # CartPole says nothing of success: no rate, no verdict.
    cartpole = load_actor(_agent(tmp_path / "cartpole"))
    plain = evaluate_in_env(
        replace(config, env="CartPole-v1", episodes=2), cartpole, EnvChoice("CartPole-v1", "option")
    )
    assert plain["monotone"] is None and plain["levels"][0]["success_rate"] is None


def test_the_cli_prints_the_success_rate_and_fails_when_it_falls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rising = _coin_agent(tmp_path / "rising", choice=1, idle=0)
    args = ["eval", "agent", "--env", COIN, "--episodes", "20", "--difficulties", "0", "1"]
    assert main([*args, "--agent-dir", str(rising)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[1].endswith("success rate") and table[2].endswith("0.000") and table[3].endswith("1.000")
    assert table[4].startswith("success rate never falls as difficulty rises: yes")
    falling = _coin_agent(tmp_path / "falling", choice=0, idle=1)  # weaker play wins here
    assert main([*args, "--agent-dir", str(falling)]) == 1
    assert "never falls as difficulty rises: no" in capsys.readouterr().out
    # The ablation options replace the handicap for the evaluation only.
    assert main([*args, "--agent-dir", str(falling), "--freeze", "0", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [level["success_rate"] for level in report["levels"]] == [0.0, 0.0]
    assert main([*args, "--agent-dir", str(rising), "--idle-action", "1", "--json"]) == 0
    assert [level["success_rate"] for level in json.loads(capsys.readouterr().out)["levels"]] == [1.0, 1.0]

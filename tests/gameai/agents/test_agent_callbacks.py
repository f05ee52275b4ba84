"""Callback schedules and the TensorBoard groups of an agent run."""

from __future__ import annotations

from gameai.agents.callbacks import Every
from gameai.agents.run_log import grouped_key


def test_every_fires_once_per_crossed_multiple() -> None:
    every = Every(100)
    fired = [step for step in range(0, 450, 30) if every.due(step)]
    assert fired == [120, 210, 300, 420]
    resumed = Every(100, start=250)  # after a resume at step 250, next due at 300
    assert not resumed.due(280) and resumed.due(300)
    assert not Every(0).due(10**9)


def test_sb3_keys_are_grouped_the_cleanrl_way() -> None:
    assert grouped_key("rollout/ep_rew_mean") == "charts/episodic_return"
    assert grouped_key("time/fps") == "charts/SPS"
    assert grouped_key("train/value_loss") == "losses/value_loss"
    assert grouped_key("train/policy_gradient_loss") == "losses/policy_loss"
    assert grouped_key("eval/win_rate_d1.00") == "eval/win_rate_d1.00"
    assert grouped_key("time/iterations") is None

"""Who may connect: browser origins, tokens from every source, token guessing, /metrics."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from gameai.server.access import OriginPolicy, TokenFailures, token_matches
from gameai.server.config import ServerConfig, build_config
from gameai.testing.servers import running_server, runtime_config_for

HELLO = {"type": "hello", "protocol": 1, "game_id": "g", "services": ["agents"]}


def _models(assets: Path) -> Any:
    return runtime_config_for(assets, behaviour_model="", dialogue_model="")


async def _hello(
    url: str, token: str | None = None, origin: str | None = None
) -> tuple[ClientConnection, dict[str, Any]]:
    websocket = await connect(url, origin=origin)  # type: ignore[arg-type]
    await websocket.send(json.dumps({**HELLO, **({"token": token} if token is not None else {})}))
    return websocket, json.loads(await websocket.recv())


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    try:
        with urlopen(Request(url, headers=headers or {}), timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_origin_policy() -> None:
    policy = OriginPolicy(["http://127.0.0.1:8000"])
    assert policy.allows(None)  # not a browser
    assert policy.allows("http://127.0.0.1:8000")
    assert not policy.allows("http://evil.example") and not policy.allows("null")
    assert not policy.allows("http://127.0.0.1:8001")
    assert policy.cors_headers("http://127.0.0.1:8000") == [
        ("Access-Control-Allow-Origin", "http://127.0.0.1:8000"),
        ("Vary", "Origin"),
    ]
    assert policy.cors_headers("http://evil.example") == [] and policy.cors_headers(None) == []
    assert not OriginPolicy([]).allows("http://127.0.0.1:8000")
    assert OriginPolicy(["*"]).allows("http://anything.example")


def test_token_matches() -> None:
    assert token_matches("abc", ["x", "abc"])
    assert not token_matches("abd", ["abc"]) and not token_matches("", ["abc"])
    assert not token_matches(None, ["abc"]) and not token_matches("", [""])


def test_token_failures_lock_an_address_out_for_a_while() -> None:
    failures = TokenFailures(max_failures=3, lockout_s=60.0)
    for t in (0.0, 1.0):
        failures.fail("10.0.0.1", t)
    assert failures.locked_for("10.0.0.1", 2.0) == 0.0
    failures.fail("10.0.0.1", 2.0)
    assert failures.locked_for("10.0.0.1", 2.0) == pytest.approx(58.0)
    assert failures.locked_for("10.0.0.2", 2.0) == 0.0  # another address is not affected
    assert failures.locked_for("10.0.0.1", 59.0) > 0
    assert failures.locked_for("10.0.0.1", 60.5) == 0.0  # the first failure is older than the window
    assert TokenFailures(max_failures=0, lockout_s=1.0).locked_for("a", 0.0) == 0.0
    small = TokenFailures(max_failures=1, lockout_s=60.0, max_addresses=2)
    for index, address in enumerate(["a", "b", "c"]):
        small.fail(address, float(index))
    assert small.locked_for("a", 3.0) == 0.0 and small.locked_for("c", 3.0) > 0  # memory stays bounded


@pytest.mark.parametrize(
    ("sources", "env"),
    [
        ({"cli": {"tokens": ("",)}}, {}),
        ({"cli": {"tokens": ("ok", "  ")}}, {}),
        ({"file": {"tokens": [""]}}, {}),
    ],
    ids=["flag-empty", "flag-blank", "toml-empty"],
)
def test_empty_or_blank_tokens_are_refused_at_startup(sources: dict[str, Any], env: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="empty or blank"):
        build_config(
            ServerConfig, sources.get("file", {}), env, {"host": "0.0.0.0", **sources.get("cli", {})}
        )


def test_empty_tokens_from_the_environment_are_refused() -> None:
    for tokens in ("", " "):
        with pytest.raises(ValueError, match="needs at least one token"):
            build_config(ServerConfig, {}, {"GAMEAI_TOKENS": tokens}, {"host": "0.0.0.0"})
    for tokens in ("good, ", "good,,other"):
        with pytest.raises(ValueError, match="empty or blank"):
            build_config(ServerConfig, {}, {"GAMEAI_TOKENS": tokens}, {"host": "0.0.0.0"})


def test_allowed_origins_must_be_origins() -> None:
    for bad in ("http://game.example/", "game.example", " http://a.example"):
        with pytest.raises(ValueError, match="allowed_origins"):
            ServerConfig(allowed_origins=(bad,))
    assert ServerConfig(allowed_origins=("https://game.example", "*")).allowed_origins


async def test_browser_origins_are_refused_unless_allowed(assets: Path) -> None:
    page = "http://127.0.0.1:8000"
    config = ServerConfig(port=0, allowed_origins=(page,))
    async with running_server(config, _models(assets)) as server:
        for origin in ("http://evil.example", "null", "http://127.0.0.1:8001"):
            with pytest.raises(InvalidStatus) as refused:
                await connect(server.url, origin=origin)  # type: ignore[arg-type]
            assert refused.value.response.status_code == 403
        websocket, welcome = await _hello(server.url, origin=page)
        assert welcome["type"] == "welcome"
        await websocket.close()
        websocket, welcome = await _hello(server.url)  # no Origin: not a browser
        assert welcome["type"] == "welcome"
        await websocket.close()

        http = server.url.replace("ws://", "http://")
        status, headers, _ = await asyncio.to_thread(_get, http + "healthz", {"Origin": page})
        assert status == 200 and headers["Access-Control-Allow-Origin"] == page
        status, headers, _ = await asyncio.to_thread(_get, http + "healthz")
        assert status == 200 and "Access-Control-Allow-Origin" not in headers
        status, _, _ = await asyncio.to_thread(_get, http + "metrics", {"Origin": "http://evil.example"})
        assert status == 403
        refused = server.metrics.registry.get_sample_value("gameai_connections_total", {"outcome": "refused"})
        assert refused == 4.0


async def test_by_default_no_browser_origin_gets_in(assets: Path) -> None:
    async with running_server(ServerConfig(port=0), _models(assets)) as server:
        with pytest.raises(InvalidStatus):
            await connect(server.url, origin="http://localhost:3000")  # type: ignore[arg-type]
        status, _, _ = await asyncio.to_thread(
            _get, server.url.replace("ws://", "http://") + "healthz", {"Origin": "http://localhost:3000"}
        )
        assert status == 403


async def test_wrong_tokens_lock_the_address_out_and_metrics_need_the_token(assets: Path) -> None:
    config = ServerConfig(port=0, tokens=("s3cret",), require_token="always", token_max_failures=3)
    async with running_server(config, _models(assets)) as server:
        for token in (None, "", "guess"):
            websocket, error = await _hello(server.url, token)
            assert (error["code"], error["message"]) == ("bad_token", "missing or wrong token")
            await websocket.wait_closed()
            assert websocket.close_code == 4001
        # Locked out: even the right token is not looked at now.
        websocket, error = await _hello(server.url, "s3cret")
        assert error["code"] == "bad_token" and "too many wrong tokens" in error["message"]
        await websocket.wait_closed()
        server.token_failures = TokenFailures(3, 60.0)  # the window passed
        websocket, welcome = await _hello(server.url, "s3cret")
        assert welcome["type"] == "welcome"
        await websocket.close()

        metrics = server.url.replace("ws://", "http://") + "metrics"
        status, _, body = await asyncio.to_thread(_get, metrics)
        assert status == 401 and b"Bearer" in body
        status, _, _ = await asyncio.to_thread(_get, metrics, {"Authorization": "Bearer guess"})
        assert status == 401
        status, _, body = await asyncio.to_thread(_get, metrics, {"Authorization": "Bearer s3cret"})
        assert status == 200 and b"gameai_sessions_active" in body
        status, _, _ = await asyncio.to_thread(_get, server.url.replace("ws://", "http://") + "healthz")
        assert status == 200  # health checks need no token

"""[node] settings: one node needs none of them; several need an id, an address, PostgreSQL and
one token secret, and a bad value is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.settings import CONFIG_ENV, REPO_ROOT, SettingsError, load_settings
from server.signaling.ice import parse_entries

PG = {"url": "postgresql+asyncpg://lianshen@127.0.0.1:5432/lianshen"}
NODE = {"id": "city-1", "level": "City", "signaling_url": "https://city.example:8443/",
        "redis_url": "redis://127.0.0.1:6379/0", "media_addresses": ["10.2.0.5"]}


def test_one_node_needs_no_node_settings(tmp_path: Path) -> None:
    node = load_settings(data_dir=tmp_path).node
    assert not node.clustered and node.id == "" and node.redis_url == ""


def test_a_node_of_several(tmp_path: Path) -> None:
    node = load_settings(data_dir=tmp_path, database=PG, auth={"token_secret": "s" * 32}, node=NODE).node
    assert node.clustered
    assert (node.level, node.signaling_url) == ("city", "https://city.example:8443")
    assert node.heartbeat_seconds == node.lease_seconds / 3


@pytest.mark.parametrize(("database", "auth", "node", "named"), [
    (PG, {"token_secret": "s"}, {**NODE, "id": ""}, "give the node.s id"),
    (PG, {"token_secret": "s"}, {**NODE, "signaling_url": ""}, "give the node.s id and signaling_url"),
    (PG, {"token_secret": "s"}, {**NODE, "signaling_url": "https://city.example/room"}, "node.signaling_url"),
    (PG, {"token_secret": "s"}, {**NODE, "id": "city:1"}, "node.id"),
    (PG, {"token_secret": "s"}, {**NODE, "redis_url": "http://127.0.0.1:6379"}, "node.redis_url"),
    (PG, {"token_secret": "s"}, {**NODE, "media_addresses": ["city.example"]}, "node.media_addresses"),
    (PG, {"token_secret": "s"}, {**NODE, "lease_seconds": 0.5}, "node.lease_seconds"),
    ({}, {"token_secret": "s"}, NODE, "PostgreSQL"),
    (PG, {}, NODE, "token_secret"),
])
def test_what_several_nodes_need_is_checked_at_start(tmp_path: Path, database: dict[str, str],
                                                     auth: dict[str, str], node: dict[str, object],
                                                     named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(data_dir=tmp_path, database=database, auth=auth, node=node)


EXAMPLES = sorted((REPO_ROOT / "config" / "cluster").glob("*.toml"))


def test_the_three_node_example_is_one_system_of_three_levels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIANSHEN_AUTH_TOKEN_SECRET", "the-same-secret-on-every-node")
    nodes = []
    for path in EXAMPLES:
        monkeypatch.setenv(CONFIG_ENV, str(path))
        settings = load_settings()
        assert parse_entries(settings.sfu), path  # each node hands out its own segment's TURN server
        nodes.append(settings)
    assert sorted(s.node.level for s in nodes) == ["city", "county", "province"]
    assert len({s.node.id for s in nodes}) == len({s.node.signaling_url for s in nodes}) == 3
    assert len({(s.node.redis_url, s.node.namespace, s.database.url) for s in nodes}) == 1
    assert all(s.node.media_addresses == s.sfu.ice_gather_addresses for s in nodes)

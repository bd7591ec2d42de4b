"""nats-server configuration text, credentials and stream definitions (no server runs here)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from ledger13710.config.node import NodeConfig, load_node_configs
from ledger13710.domain.errors import ConfigError
from ledger13710.replication.nats import render as natsrender
from ledger13710.replication.nats import topology as natstopology
from ledger13710.replication.nats import users as natsusers
from ledger13710.replication.subjects import EVENTS_STREAM, INBOX_STREAM, PUBLIC_STREAM

NODES = Path(__file__).resolve().parents[2] / "nodes"
TOWNSHIP = "sx.xinzhou.dingxiang.jinchang"


@pytest.fixture(scope="module")
def nodes() -> dict[str, NodeConfig]:
    """The repository's node files."""
    return load_node_configs(NODES)


def test_credentials_are_deterministic_only_when_seeded(nodes: dict[str, NodeConfig]) -> None:
    """Same seed, same passwords; another seed or none gives others; admin is always there."""
    a = natsusers.make_credentials(nodes, seed="s")
    assert a == natsusers.make_credentials(nodes, seed="s")
    assert a != natsusers.make_credentials(nodes, seed="t")
    assert natsusers.make_credentials(nodes) != natsusers.make_credentials(nodes)
    assert set(a) == {"admin", "integrator", *nodes}
    assert len(set(a.values())) == len(a)
    assert all(len(p) >= 32 for p in a.values())


def test_credentials_round_trip_with_mode_0600(tmp_path: Path) -> None:
    """save/load returns the same mapping, and the file is readable by its owner only."""
    creds = natsusers.make_credentials(["sx", "sx.xinzhou"], seed="x")
    path = tmp_path / "nats-credentials.json"
    path.write_text("{}")
    path.chmod(0o644)  # replacing a too-open file tightens it
    natsusers.save_credentials(path, creds)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert natsusers.load_credentials(path) == creds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "cannot read"),
        ('{"sx": "p"}', "no 'admin' user"),
        ('{"admin": 3}', "JSON object"),
    ],
)
def test_bad_credentials_files_are_config_errors(tmp_path: Path, text: str, message: str) -> None:
    """A broken credentials file is a ConfigError naming the file and the problem."""
    path = tmp_path / "c.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        natsusers.load_credentials(path)


def test_township_permissions_are_exactly_its_own() -> None:
    """The township may publish its log, answer fetches and use its own consumers, no more."""
    perms = natsusers.node_permissions(TOWNSHIP)
    pub = perms["publish"]["allow"]
    assert "l13710.ev.sx.xinzhou.dingxiang.jinchang._" in pub
    assert "l13710.inbox.sx.xinzhou.dingxiang.jinchang.*.>" in pub
    assert (
        "$JS.API.CONSUMER.CREATE.L13710_EV.ingest-sx_xinzhou_dingxiang_jinchang."
        "l13710.ev.sx.xinzhou.dingxiang.jinchang.*.>"
    ) in pub
    assert "$JS.API.DIRECT.GET.L13710_EV.l13710.ev.sx.xinzhou.dingxiang.jinchang._" in pub
    assert not any(s.startswith("_I") for s in pub), "replies go through allow_responses"
    own = (TOWNSHIP, TOWNSHIP.replace(".", "_"))
    shared = ("$JS.API.INFO", "$JS.API.STREAM.INFO.L13710_EV", "$JS.API.STREAM.INFO.L13710_INBOX")
    assert all(any(o in s for o in own) or s in shared for s in pub)
    assert perms["subscribe"]["allow"] == [
        "l13710.fetch.sx.xinzhou.dingxiang.jinchang._",
        "l13710.ack.sx.xinzhou.dingxiang.jinchang._",
        "l13710.info.sx.xinzhou.dingxiang.jinchang._",
        "_I.sx.xinzhou.dingxiang.jinchang.>",
    ]
    assert perms["allow_responses"] == {"max": 1, "expires": "1m"}


def test_hub_config_lists_every_user_in_one_jetstream_account(
    nodes: dict[str, NodeConfig],
) -> None:
    """The hub text binds 127.0.0.1, enables JetStream and holds admin plus every node user."""
    creds = natsusers.make_credentials(nodes, seed="h")
    text = natstopology.hub_config(nodes, creds, port=15000, store_dir="/srv/js")
    assert 'listen: "127.0.0.1:15000"' in text
    assert 'store_dir: "/srv/js"' in text
    assert "LEDGER: {" in text
    assert 'jetstream: "enabled"' in text
    assert "4222" not in text
    assert "http:" not in text
    for user in ["admin", *nodes]:
        assert f'user: "{user}"' in text
        assert creds[user] in text
    assert text.count("permissions:") == len(nodes) + 1  # nodes and integrator; admin: all
    with_http = natstopology.hub_config(nodes, creds, port=15000, store_dir="/s", http_port=15001)
    assert 'http: "127.0.0.1:15001"' in with_http


def test_missing_password_is_a_config_error(nodes: dict[str, NodeConfig]) -> None:
    """A node without a password in the credentials is named in the error."""
    creds = natsusers.make_credentials(["sx"], seed="m")
    with pytest.raises(ConfigError, match=r"no NATS password for .*sx\.xinzhou"):
        natstopology.hub_config(nodes, creds, port=1, store_dir="/s")


def test_cluster_configs_route_to_the_other_servers(nodes: dict[str, NodeConfig]) -> None:
    """Three servers, each named, listening for routes and routing to the two others."""
    creds = natsusers.make_credentials(nodes, seed="c")
    texts = natstopology.hub_cluster_configs(
        nodes, creds, [1, 2, 3], [11, 12, 13], ["/a", "/b", "/c"]
    )
    assert len(texts) == 3
    for i, text in enumerate(texts):
        assert f'server_name: "hub-{i}"' in text
        assert f'listen: "127.0.0.1:{11 + i}"' in text
        others = [p for p in (11, 12, 13) if p != 11 + i]
        assert all(f"@127.0.0.1:{p}" in text for p in others)
        assert f'@127.0.0.1:{11 + i}"' not in text
    with pytest.raises(ConfigError):
        natstopology.hub_cluster_configs(nodes, creds, [1], [11], ["/a"])


def test_leaf_configs_link_cities_to_the_hub(nodes: dict[str, NodeConfig]) -> None:
    """The hub listens for leafnodes in domain hub; the city remote binds LEDGER and denies
    its own subtree's subjects both ways."""
    creds = natsusers.make_credentials(nodes, seed="l")
    texts = natstopology.leaf_configs(
        nodes,
        creds,
        hub_port=1,
        hub_leaf_port=2,
        city_ports={"sx.xinzhou": (3,)},
        store_dir_base="/js",
    )
    assert set(texts) == {"hub", "sx_xinzhou"}
    assert 'domain: "hub"' in texts["hub"]
    assert 'listen: "127.0.0.1:2"' in texts["hub"]
    city = texts["sx_xinzhou"]
    assert 'domain: "sx_xinzhou"' in city
    assert 'store_dir: "/js/sx_xinzhou"' in city
    assert f'url: "nats-leaf://admin:{creds["admin"]}@127.0.0.1:2"' in city
    assert 'account: "LEDGER"' in city
    data = city.split("deny_imports:")[1]
    assert '"l13710.ev.sx.xinzhou.>"' in data
    assert '"l13710.inbox.sx.xinzhou.>"' in data
    with pytest.raises(ConfigError, match=r"sx\.xinzhou\.dingxiang"):
        natstopology.leaf_configs(
            nodes,
            creds,
            hub_port=1,
            hub_leaf_port=2,
            city_ports={"sx.xinzhou.dingxiang": (3,)},
            store_dir_base="/js",
        )


def test_server_for_follows_the_city(nodes: dict[str, NodeConfig]) -> None:
    """A city and everything below it use the city's leaf; the province and leafless cities
    use the hub."""
    assert natstopology.server_for("sx", nodes) == "hub"
    assert natstopology.server_for("sx.xinzhou", nodes) == "sx_xinzhou"
    assert natstopology.server_for(TOWNSHIP, nodes) == "sx_xinzhou"
    assert natstopology.server_for("sx.taiyuan", nodes, cities=["sx.xinzhou"]) == "hub"
    with pytest.raises(ConfigError):
        natstopology.server_for("sx.nowhere", nodes)


def test_hub_streams() -> None:
    """Hub topology: all events and inboxes, file storage, direct get, dedupe, public mirror."""
    ev, inbox, public = natstopology.stream_configs("hub")["hub"]
    assert public.name == PUBLIC_STREAM
    assert public.mirror is not None
    assert public.mirror.name == EVENTS_STREAM
    assert (ev.name, ev.subjects, ev.allow_direct) == (EVENTS_STREAM, ["l13710.ev.>"], True)
    assert ev.duplicate_window == 120.0
    assert ev.max_age == 0
    assert ev.max_msgs == -1
    assert (inbox.name, inbox.subjects) == (INBOX_STREAM, ["l13710.inbox.>"])


def test_leaf_streams_capture_each_subject_in_one_domain(nodes: dict[str, NodeConfig]) -> None:
    """Leaf topology: the hub captures the province and leafless cities and sources each
    leaf city's events; a city's inbox sources the hub's inbox for its subtree."""
    streams = natstopology.stream_configs("leaf", nodes, cities=["sx.xinzhou"])
    hub_ev, hub_inbox, _public = streams["hub"]
    city_ev, city_inbox = streams["sx_xinzhou"]
    assert hub_ev.subjects is not None
    assert "l13710.ev.sx._" in hub_ev.subjects
    assert "l13710.ev.sx.taiyuan.>" in hub_ev.subjects
    assert not any("xinzhou" in s for s in hub_ev.subjects)
    assert city_ev.subjects == ["l13710.ev.sx.xinzhou.>"]
    assert hub_ev.sources is not None
    assert hub_ev.sources[0].external is not None
    assert hub_ev.sources[0].external.api == "$JS.sx_xinzhou.API"
    assert hub_inbox.subjects == ["l13710.inbox.>"]
    assert city_inbox.sources is not None
    assert city_inbox.sources[0].external is not None
    assert city_inbox.sources[0].external.api == "$JS.hub.API"
    assert city_inbox.sources[0].filter_subject == "l13710.inbox.sx.xinzhou.>"
    with pytest.raises(ConfigError):
        natstopology.stream_configs("leaf")


def test_render_quotes_strings_and_nests() -> None:
    """Strings are JSON-quoted (so ``$JS`` is not a variable), lists and maps nest."""
    text = natsrender.render({"a": "$JS.API.INFO", "b": [1, True], "c": {"d": "x"}})
    assert json.loads('"$JS.API.INFO"') in text
    assert text == 'a: "$JS.API.INFO"\nb: [\n  1\n  true\n]\nc: {\n  d: "x"\n}\n'

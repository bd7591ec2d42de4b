"""nats-server configuration for the federation, generated from ``nodes/``: the servers of each
topology and the JetStream streams ``admin`` creates on them; pure, no I/O. The users and their
permissions are :mod:`ledger13710.replication.nats.users`, the text format
:mod:`ledger13710.replication.nats.render`.

Two topologies.

**Hub** (:func:`hub_config`, :func:`hub_cluster_configs`): every node connects to one server
(or a 3-server JetStream cluster). Streams (:func:`stream_configs` ``"hub"``): ``L13710_EV``
captures ``l13710.ev.>`` and ``L13710_INBOX`` captures ``l13710.inbox.>``.

**Leaf** (:func:`leaf_configs`): the province hub (JetStream domain ``hub``) plus one leaf
server per city that has one (domain ``sx_xinzhou`` for ``sx.xinzhou``). A city node, its
counties and townships connect to the city's leaf server; the province node and the subtrees
of cities without a leaf server connect to the hub (:func:`server_for`). Streams:

* city domain: ``L13710_EV`` captures ``l13710.ev.<city>.>`` (the city's subtree, so the city
  ingests its counties locally while the link is down); ``L13710_INBOX`` captures
  ``l13710.inbox.<city>.>`` published *at the city*, and **sources** the hub's ``L13710_INBOX``
  filtered to ``l13710.inbox.<city>.>`` (what the province and hub-side publishers sent down).
* hub domain: ``L13710_EV`` captures ``l13710.ev.<province>._`` and the subtrees of cities
  without a leaf server, and **sources** each city's ``L13710_EV`` (external API
  ``$JS.<domain>.API``), so the hub catches up when a city's link returns; ``L13710_INBOX``
  captures ``l13710.inbox.>`` (everything published at the hub).

Each message is stored once per domain: the leaf remote *denies* ``l13710.ev.<city>.>`` and
``l13710.inbox.<city>.>`` in both directions, so a publish is captured only by the streams of
the server it was published at and crosses the link only by sourcing (whose delivery subjects
are the server's own). Without the denies a township's event would also be captured by any hub
stream listening on ``l13710.ev.>``, and a hub-published inbox message would be captured by the
city directly *and* again through the source. JetStream API traffic (``$JS.API.>``) does not
cross the link because the domains differ; core request/reply (fetch, ack) crosses freely.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, Literal

from nats.js import api

from ledger13710.config.node import NodeConfig
from ledger13710.domain.errors import ConfigError
from ledger13710.domain.types import Tier
from ledger13710.replication import subjects as sj
from ledger13710.replication.nats.render import render
from ledger13710.replication.nats.users import ACCOUNT, ADMIN, account_users

HUB = "hub"
Topology = Literal["hub", "leaf"]
DUPLICATE_WINDOW = 120.0  # seconds

# --- server configs ------------------------------------------------------------------------


def _server(
    name: str,
    nodes: Collection[str],
    creds: Mapping[str, str],
    *,
    port: int,
    store_dir: str | Path,
    http_port: int | None,
    domain: str | None = None,
) -> dict[str, Any]:
    jetstream: dict[str, Any] = {"store_dir": str(store_dir), "max_memory_store": 64 * 1024 * 1024}
    if domain is not None:
        jetstream["domain"] = domain
    conf: dict[str, Any] = {
        "server_name": name,
        "listen": f"127.0.0.1:{port}",
        "jetstream": jetstream,
        "accounts": {ACCOUNT: {"jetstream": "enabled", "users": account_users(nodes, creds)}},
    }
    if http_port is not None:
        conf["http"] = f"127.0.0.1:{http_port}"
    return conf


def hub_config(
    nodes: Mapping[str, NodeConfig],
    creds: Mapping[str, str],
    *,
    port: int,
    store_dir: str | Path,
    http_port: int | None = None,
    server_name: str = HUB,
) -> str:
    """One JetStream server for the whole federation (topology "hub")."""
    return render(
        _server(server_name, nodes, creds, port=port, store_dir=store_dir, http_port=http_port)
    )


def hub_cluster_configs(
    nodes: Mapping[str, NodeConfig],
    creds: Mapping[str, str],
    ports: list[int],
    cluster_ports: list[int],
    store_dirs: list[str | Path],
    http_ports: list[int] | None = None,
) -> list[str]:
    """A JetStream cluster (3 servers) of the hub topology; routes authenticate as admin."""
    if not len(ports) == len(cluster_ports) == len(store_dirs) >= 3:
        raise ConfigError("a JetStream cluster needs 3 or more servers, each with 3 settings")
    configs: list[str] = []
    for i, (port, cport, store) in enumerate(zip(ports, cluster_ports, store_dirs, strict=True)):
        conf = _server(
            f"{HUB}-{i}",
            nodes,
            creds,
            port=port,
            store_dir=store,
            http_port=http_ports[i] if http_ports else None,
        )
        conf["cluster"] = {
            "name": "l13710",
            "listen": f"127.0.0.1:{cport}",
            "authorization": {"user": ADMIN, "password": creds[ADMIN]},
            "routes": [
                f"nats-route://{ADMIN}:{creds[ADMIN]}@127.0.0.1:{p}"
                for p in cluster_ports
                if p != cport
            ],
        }
        configs.append(render(conf))
    return configs


def city_of(node_id: str) -> str | None:
    """The city a node lies in (itself for a city), None for the province."""
    parts = node_id.split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 else None


def domain_of(city: str) -> str:
    """A city's JetStream domain and leaf server name: ``sx.xinzhou`` -> ``sx_xinzhou``."""
    return city.replace(".", "_")


def leaf_cities(nodes: Mapping[str, NodeConfig]) -> list[str]:
    """The cities that get a leaf server by default: every city node present."""
    return sorted(n for n, cfg in nodes.items() if cfg.node.tier == Tier.CITY)


def server_for(
    node_id: str, nodes: Mapping[str, NodeConfig], cities: Collection[str] | None = None
) -> str:
    """The server ``node_id`` connects to in the leaf topology (``hub`` or a city domain)."""
    if node_id not in nodes:
        raise ConfigError(f"node {node_id!r} has no file in the node directory")
    cities = leaf_cities(nodes) if cities is None else cities
    city = city_of(node_id)
    return domain_of(city) if city is not None and city in cities else HUB


def leaf_configs(
    nodes: Mapping[str, NodeConfig],
    creds: Mapping[str, str],
    *,
    hub_port: int,
    hub_leaf_port: int,
    city_ports: Mapping[str, tuple[int, ...]],
    store_dir_base: str | Path,
    hub_http_port: int | None = None,
) -> dict[str, str]:
    """Topology "leaf": the hub plus one leaf server per city in ``city_ports``.

    ``city_ports[city]`` is ``(client_port,)`` or ``(client_port, http_port)``. Every server
    knows every user, so any node can log in anywhere (the account binds by name across the
    link: the remote logs in to the hub as admin of ``LEDGER`` and binds the local ``LEDGER``).
    """
    base = Path(store_dir_base)
    unknown = sorted(c for c in city_ports if c not in leaf_cities(nodes))
    if unknown:
        raise ConfigError(f"not city nodes of the node directory: {', '.join(unknown)}")
    hub = _server(
        HUB, nodes, creds, port=hub_port, store_dir=base / HUB, http_port=hub_http_port, domain=HUB
    )
    hub["leafnodes"] = {"listen": f"127.0.0.1:{hub_leaf_port}"}
    configs = {HUB: render(hub)}
    for city, ports in sorted(city_ports.items()):
        domain = domain_of(city)
        conf = _server(
            domain,
            nodes,
            creds,
            port=ports[0],
            store_dir=base / domain,
            http_port=ports[1] if len(ports) > 1 else None,
            domain=domain,
        )
        local = [f"{sj.EV}.{city}.>", f"{sj.INBOX}.{city}.>"]
        conf["leafnodes"] = {
            "remotes": [
                {
                    "url": f"nats-leaf://{ADMIN}:{creds[ADMIN]}@127.0.0.1:{hub_leaf_port}",
                    "account": ACCOUNT,
                    "deny_imports": local,
                    "deny_exports": local,
                }
            ],
            "reconnect": "1s",
        }
        configs[domain] = render(conf)
    return configs


# --- streams -------------------------------------------------------------------------------


def _stream(name: str, subjects: list[str], replicas: int, **extra: Any) -> api.StreamConfig:
    return api.StreamConfig(
        name=name,
        subjects=subjects,
        retention=api.RetentionPolicy.LIMITS,
        discard=api.DiscardPolicy.NEW,  # never drop old events; refuse new ones at a limit
        max_msgs=-1,
        max_bytes=-1,
        max_age=0,
        storage=api.StorageType.FILE,
        num_replicas=replicas,
        duplicate_window=DUPLICATE_WINDOW,
        deny_delete=True,
        deny_purge=True,
        **extra,
    )


def _public_mirror(replicas: int) -> api.StreamConfig:
    """Integrators' read-only copy of the hub's events stream."""
    return api.StreamConfig(
        name=sj.PUBLIC_STREAM,
        mirror=api.StreamSource(name=sj.EVENTS_STREAM),
        retention=api.RetentionPolicy.LIMITS,
        storage=api.StorageType.FILE,
        num_replicas=replicas,
        deny_delete=True,
        deny_purge=True,
    )


def _attachment_bucket(node: str, replicas: int) -> api.StreamConfig:
    """A node's Object Store bucket, as nats-py's ``create_object_store`` makes it (only the
    node writes it; its ancestors read it; see natsusers.attachment_permissions)."""
    bucket = sj.attachment_bucket(node)
    return api.StreamConfig(
        name=sj.attachment_stream(node),
        subjects=[f"$O.{bucket}.C.>", f"$O.{bucket}.M.>"],
        retention=api.RetentionPolicy.LIMITS,
        discard=api.DiscardPolicy.NEW,
        max_bytes=-1,
        storage=api.StorageType.FILE,
        num_replicas=replicas,
        allow_rollup_hdrs=True,
        allow_direct=True,
    )


def stream_configs(
    topology: Topology,
    nodes: Mapping[str, NodeConfig] | None = None,
    *,
    cities: Collection[str] = (),
    replicas: int = 1,
) -> dict[str, list[api.StreamConfig]]:
    """The streams ``admin`` creates, per server name (``hub`` and, for "leaf", each city)."""
    if topology == "hub":
        return {
            HUB: [
                _stream(sj.EVENTS_STREAM, [f"{sj.EV}.>"], replicas, allow_direct=True),
                _stream(sj.INBOX_STREAM, [f"{sj.INBOX}.>"], replicas),
                _public_mirror(replicas),
                *(_attachment_bucket(n, replicas) for n in sorted(nodes or ())),
            ]
        }
    if nodes is None:
        raise ConfigError("the leaf topology needs the node configs")
    provinces = sorted(n for n, cfg in nodes.items() if cfg.node.tier == Tier.PROVINCE)
    others = [c for c in leaf_cities(nodes) if c not in cities]
    hub_ev = _stream(
        sj.EVENTS_STREAM,
        [sj.events_subject(p) for p in provinces] + [f"{sj.EV}.{c}.>" for c in others],
        replicas,
        allow_direct=True,
        sources=[
            api.StreamSource(
                name=sj.EVENTS_STREAM,
                external=api.ExternalStream(api=f"$JS.{domain_of(c)}.API"),
            )
            for c in sorted(cities)
        ],
    )
    result = {
        HUB: [
            hub_ev,
            _stream(sj.INBOX_STREAM, [f"{sj.INBOX}.>"], replicas),
            _public_mirror(replicas),
        ]
    }
    for city in sorted(cities):
        result[domain_of(city)] = [
            _stream(sj.EVENTS_STREAM, [f"{sj.EV}.{city}.>"], replicas, allow_direct=True),
            _stream(
                sj.INBOX_STREAM,
                [f"{sj.INBOX}.{city}.>"],
                replicas,
                sources=[
                    api.StreamSource(
                        name=sj.INBOX_STREAM,
                        filter_subject=f"{sj.INBOX}.{city}.>",
                        external=api.ExternalStream(api=f"$JS.{HUB}.API"),
                    )
                ],
            ),
        ]
    return result

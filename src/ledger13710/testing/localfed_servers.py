"""The nats-servers of a :class:`ledger13710.testing.localfed.LocalFederation` on loopback.

Topology ``hub``: one server every node connects to. Topology ``leaf``: the province hub plus
one leaf server for each city among the federation's nodes; a city, its counties and townships
connect to their city's server (:func:`ledger13710.replication.nats.topology.server_for`). Each
server gets the streams its topology prescribes, created as ``admin``; every port is a free one
on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from pathlib import Path

from ledger13710.config.node import NodeConfig
from ledger13710.domain.types import Tier
from ledger13710.replication.nats import topology as natstopology
from ledger13710.replication.nats.server import NatsServer, ensure_streams, free_port
from ledger13710.replication.nats.topology import HUB, Topology, domain_of
from ledger13710.replication.nats.users import ADMIN


def leaf_cities_of(configs: Mapping[str, NodeConfig], node_ids: Collection[str]) -> list[str]:
    """The cities among ``node_ids``: each gets a leaf server in the leaf topology."""
    return sorted(n for n in node_ids if configs[n].node.tier == Tier.CITY)


def start_servers(
    topology: Topology,
    base: Path,
    configs: Mapping[str, NodeConfig],
    creds: Mapping[str, str],
    cities: Collection[str],
) -> dict[str, NatsServer]:
    """Start the topology's servers (by name, the hub first) and create their streams."""
    servers: dict[str, NatsServer] = {}
    try:
        if topology == "hub":
            port, http = free_port(), free_port()
            text = natstopology.hub_config(
                configs, creds, port=port, store_dir=base / "js", http_port=http
            )
            servers[HUB] = NatsServer(base / "nats", text, port=port, http_port=http)
        else:
            hub_port, leaf_port, hub_http = free_port(), free_port(), free_port()
            ports = {city: (free_port(), free_port()) for city in cities}
            texts = natstopology.leaf_configs(
                configs, creds, hub_port=hub_port, hub_leaf_port=leaf_port, city_ports=ports,
                store_dir_base=base / "js", hub_http_port=hub_http,
            )  # fmt: skip
            servers[HUB] = NatsServer(
                base / "nats", texts[HUB], port=hub_port, http_port=hub_http, name=HUB
            )
            for city, (port, http) in sorted(ports.items()):
                name = domain_of(city)
                servers[name] = NatsServer(
                    base / "nats", texts[name], port=port, http_port=http, name=name
                )
        for server in servers.values():
            server.start()
        wanted = natstopology.stream_configs(topology, configs, cities=cities)
        for name, streams in wanted.items():
            asyncio.run(ensure_streams(servers[name].url, ADMIN, creds[ADMIN], streams))
    except BaseException:
        for server in servers.values():
            server.stop()
        raise
    return servers

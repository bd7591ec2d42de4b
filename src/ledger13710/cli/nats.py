"""``ledger13710 nats …``: set up the NATS side of a federation from ``nodes/``.

- ``nats setup``    credentials and nats-server configuration files (hub or city leafnodes)
- ``nats streams``  create or update the JetStream streams (as admin)
- ``nats connect``  give a node directory its NATS url and credentials (``nats.json``)
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from ledger13710.cli import render as show
from ledger13710.cli.args import int_in
from ledger13710.config.node import load_node_configs
from ledger13710.domain.errors import InputError
from ledger13710.node.daemon import NatsSettings, write_settings
from ledger13710.replication.nats import topology as natstopology
from ledger13710.replication.nats import users as natsusers
from ledger13710.replication.nats.server import ensure_streams


def _creds(path: Path, node_ids: list[str]) -> dict[str, str]:
    if path.exists():
        return natsusers.load_credentials(path)
    creds = natsusers.make_credentials(node_ids)
    natsusers.save_credentials(path, creds)
    return creds


def _city_ports(specs: list[str]) -> dict[str, tuple[int]]:
    ports: dict[str, tuple[int]] = {}
    for spec in specs:
        city, sep, port = spec.partition("=")
        if not sep or not port.isdigit():
            raise InputError(f"bad --city {spec!r}: use CITY_ID=PORT, e.g. sx.xinzhou=4301")
        ports[city] = (int(port),)
    return ports


def cmd_setup(args: argparse.Namespace) -> int:
    """Write credentials.json and the server configuration(s) into ``--out``."""
    nodes = load_node_configs(Path(args.nodes))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    creds = _creds(out / "credentials.json", sorted(nodes))
    if args.topology == "hub":
        configs = {
            natstopology.HUB: natstopology.hub_config(
                nodes, creds, port=args.port, store_dir=out / "jetstream" / natstopology.HUB
            )
        }
    else:
        configs = natstopology.leaf_configs(
            nodes, creds, hub_port=args.port, hub_leaf_port=args.leaf_port,
            city_ports=_city_ports(args.city or []), store_dir_base=out / "jetstream",
        )  # fmt: skip
    written: list[str] = []
    for name, text in configs.items():
        conf = out / f"{name}.conf"
        conf.write_text(text, "utf-8")
        conf.chmod(0o600)  # it holds passwords
        written.append(str(conf))
    if args.json:
        show.emit_json({"credentials": str(out / "credentials.json"), "configs": written})
    else:
        for name in written:
            show.out(f"wrote {name}  (start it with: nats-server -c {name})")
    return 0


def cmd_streams(args: argparse.Namespace) -> int:
    """Create or update the streams of one server of the topology."""
    nodes = load_node_configs(Path(args.nodes))
    creds = natsusers.load_credentials(Path(args.creds))
    streams = natstopology.stream_configs(args.topology, nodes)
    if args.server not in streams:
        raise InputError(f"no server {args.server!r} in this topology: {', '.join(streams)}")
    asyncio.run(
        ensure_streams(args.url, natsusers.ADMIN, creds[natsusers.ADMIN], streams[args.server])
    )
    show.out(f"streams of {args.server} ready at {args.url}")
    return 0


def cmd_connect(args: argparse.Namespace) -> int:
    """Write ``nats.json`` into a node directory."""
    node_dir = Path(args.dir)
    node_id = args.node or _node_id(node_dir)
    creds = natsusers.load_credentials(Path(args.creds))
    if node_id not in creds:
        raise InputError(f"{args.creds} has no credentials for node {node_id}")
    write_settings(node_dir, NatsSettings(url=args.url, user=node_id, password=creds[node_id]))
    show.out(f"{node_dir}/nats.json: {node_id} at {args.url}")
    return 0


def _node_id(node_dir: Path) -> str:
    from ledger13710.config.node import load_node_config  # noqa: PLC0415 - only this command

    if not (node_dir / "node.toml").exists():
        raise InputError(f"{node_dir} is not a node directory (no node.toml)")
    return load_node_config(node_dir / "node.toml").id


def add_nats_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Add ``nats setup|streams|connect``."""
    nats = sub.add_parser("nats", help="set up NATS for a federation").add_subparsers(
        dest="nats_cmd", required=True, metavar="ACTION"
    )
    setup = nats.add_parser("setup", parents=[common], help="credentials and server configs")
    setup.add_argument("--nodes", default="nodes", help="directory of node TOMLs")
    setup.add_argument("--out", required=True, help="where to write configs and credentials")
    setup.add_argument(
        "--topology",
        choices=["hub", "leaf"],
        default="hub",
        help="hub: one server; leaf: a hub and a leaf server per city",
    )
    setup.add_argument("--port", type=int_in(1, 65535), default=4333, help="hub client port")
    setup.add_argument(
        "--leaf-port", type=int_in(1, 65535), default=7422, help="hub leafnode port (leaf)"
    )
    setup.add_argument("--city", action="append", help="CITY_ID=PORT of a city leaf server")
    setup.set_defaults(handler=cmd_setup)
    streams = nats.add_parser("streams", parents=[common], help="create the JetStream streams")
    streams.add_argument("--nodes", default="nodes", help="directory of node TOMLs")
    streams.add_argument("--creds", required=True, help="credentials.json from `nats setup`")
    streams.add_argument("--url", required=True, help="the server, e.g. nats://127.0.0.1:4333")
    streams.add_argument(
        "--topology",
        choices=["hub", "leaf"],
        default="hub",
        help="hub: one server; leaf: a hub and a leaf server per city",
    )
    streams.add_argument("--server", default=natstopology.HUB, help="hub, or a city domain name")
    streams.set_defaults(handler=cmd_streams)
    connect = nats.add_parser("connect", parents=[common], help="write a node's nats.json")
    connect.add_argument("--creds", required=True, help="credentials.json from `nats setup`")
    connect.add_argument("--url", required=True, help="the server, e.g. nats://127.0.0.1:4333")
    connect.add_argument("--node", help="node id (default: from the node directory)")
    connect.set_defaults(handler=cmd_connect)

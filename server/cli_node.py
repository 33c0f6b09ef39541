"""`lianshen node status`: the nodes of the system as the directory in Redis shows them.

Read from Redis only (any node's settings will do: they name the same Redis and namespace), so it
answers while a node is down, and shows what a participant's join is routed by. Exit status 2 when
this is a single node (no Redis configured), 1 when Redis does not answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import asdict
from typing import Any

from redis.exceptions import RedisError

from server.cli_settings import settings_from
from server.cluster.directory import Directory
from server.cluster.settings import NodeSettings

NO_REDIS = ("单节点运行，未配置 Redis（node.redis_url / LIANSHEN_NODE_REDIS_URL），没有其他节点可列出 / "
            "a single node: no Redis is configured (node.redis_url / LIANSHEN_NODE_REDIS_URL), so there "
            "are no other nodes to list")


async def read_status(settings: NodeSettings) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every living node with its homes and participants, and every live meeting with its home,
    the nodes holding its participants (id -> how many) and its media links, as plain data."""
    directory = Directory.connect(settings.redis_url, settings.namespace, settings.lease_seconds)
    try:
        now = time.time()
        nodes = [{**asdict(node), "heartbeat_age_s": round(now - node.heartbeat_at, 1),
                  "homes": await directory.homes(node.id),
                  "links": await directory.links(node.id),
                  "participants": [asdict(p) for p in await directory.participants(node.id)]}
                 for node in await directory.nodes()]
        held: dict[int, dict[str, int]] = {}
        for node in nodes:
            for participant in node["participants"]:
                counts = held.setdefault(participant["meeting_id"], {})
                counts[node["id"]] = counts.get(node["id"], 0) + 1
        for node in nodes:
            for meeting_id in node["homes"]:
                held.setdefault(meeting_id, {})
        links = _meeting_links(nodes)
        meetings = [{"meeting_id": meeting_id, "home": await directory.home_of(meeting_id),
                     "nodes": dict(sorted(counts.items())), "links": links.get(meeting_id, {})}
                    for meeting_id, counts in sorted(held.items())]
        return nodes, meetings
    finally:
        await directory.close()


def _meeting_links(nodes: list[dict[str, Any]]) -> dict[int, dict[str, str]]:
    """Per meeting, its cascade links as "<edge>><home>" -> status, from the nodes' own link
    entries (each link is written by both of its ends; the edge's word, which opened it, wins)."""
    found: dict[int, dict[str, str]] = {}
    for node in nodes:
        for link in node["links"]:
            edge = link["role"] == "edge"
            name = f"{node['id']}>{link['peer_node']}" if edge else f"{link['peer_node']}>{node['id']}"
            known = found.setdefault(link["meeting_id"], {})
            if edge or name not in known:
                known[name] = link["status"]
    return {meeting_id: dict(sorted(links.items())) for meeting_id, links in found.items()}


def _columns(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in [header, *rows]]


def _table(nodes: list[dict[str, Any]], meetings: list[dict[str, Any]]) -> list[str]:
    lines = _columns(("node", "level", "signaling URL", "media", "heartbeat", "hears broadcasts", "home of meetings",
                      "participants"),
                     [(n["id"], n["level"] or "-", n["signaling_url"], ",".join(n["media_addresses"]) or "-",
                       f"{n['heartbeat_age_s']:.1f} s ago", "yes" if n["listening"] else "NO",
                       ",".join(map(str, n["homes"])) or "-",
                       str(len(n["participants"]))) for n in nodes])
    if meetings:
        lines += ["", *_columns(("meeting", "home", "nodes (participants)", "links"),
                                [(str(m["meeting_id"]), m["home"] or "-",
                                  ",".join(f"{node}({count})" for node, count in m["nodes"].items()) or "-",
                                  ",".join(f"{link}:{state}" for link, state in m["links"].items()) or "-")
                                 for m in meetings])]
    for node in nodes:
        lines += [f"  {node['id']}: meeting {p['meeting_id']}: {p['display_name']}"
                  f"{' (' + p['unit'] + ')' if p['unit'] else ''} [{p['id']}]" for p in node["participants"]]
        lines += [f"  {node['id']}: {_link_line(link)}" for link in node["links"]]
    return lines


def _link_line(link: dict[str, Any]) -> str:
    """A cascade link: its ends, state, and per direction tracks, bitrate, loss and round trip."""
    arrow = "->" if link["role"] == "edge" else "<-"
    parts = [f"meeting {link['meeting_id']}: link {arrow} {link['peer_node']} {link['status']}"]
    if link["error"]:
        parts.append(f"({link['error']})")
    for direction in ("sent", "received"):
        counters, bps = link[direction], link[f"{direction}_bps"]
        if counters:
            rtt = f", rtt {counters['rtt_s'] * 1000:.0f} ms" if counters["rtt_s"] is not None else ""
            rate = f"{bps / 1000:.0f} kbit/s" if bps is not None else "- kbit/s"
            parts.append(f"{direction} {counters['tracks']} tracks {rate} {counters['payload_bytes']} B, "
                         f"lost {counters['packets_lost']}{rtt};")
    return " ".join(parts).rstrip(";")


def cmd_status(args: argparse.Namespace) -> int:
    node = settings_from(args).node
    if not node.clustered:
        print(NO_REDIS, file=sys.stderr)
        return 2
    try:
        nodes, meetings = asyncio.run(read_status(node))
    except (RedisError, OSError) as exc:
        print(f"Redis 无法连接 / Redis does not answer at {node.redis_url}: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"namespace": node.namespace, "nodes": nodes, "meetings": meetings},
                         ensure_ascii=False, indent=2))
    elif not nodes:
        print(f"no living node in namespace {node.namespace!r} (none has sent a heartbeat within its lease)")
    else:
        print("\n".join(_table(nodes, meetings)))
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    node = subparsers.add_parser("node", help="the nodes of a system of several (Redis)",
                                 description="The nodes of a system of several, from the directory in Redis.")
    commands = node.add_subparsers(dest="node_command", required=True, metavar="COMMAND")
    p = commands.add_parser("status", help="list the living nodes, their meetings and participants",
                            description="List the living nodes (id, level, URLs, last heartbeat, whether "
                                        "broadcasts from other nodes reach it (its socket.io subscription to "
                                        "Redis is up), meetings they are home of, participants), then each "
                                        "live meeting: its home, the nodes holding its participants and its "
                                        "media links. Exit 2 on a single node (no Redis configured), 1 when "
                                        "Redis does not answer.")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_status)

"""Which node serves a participant of a meeting: the rule alone, on what the directory says.

The rule (docs/deployment.md, "Routing"): a person is served by a node of their own level (a county
department's representative by the county's node), because that is the node on their network; where
no node of their level is alive, by the meeting's home node (the node of its first live join); where
the meeting has no living home either, by the node they reached, which then becomes its home. Among
several nodes of one level, the one already reached wins, else the one serving fewest participants.
"""

from __future__ import annotations

from collections.abc import Sequence

from server.cluster.directory import NodeRecord


def serving_node(nodes: Sequence[NodeRecord], here: str, level: str, home: str | None) -> NodeRecord | None:
    """The node a participant of ``level`` ("" when unknown) should go to, having reached node
    ``here``; None when ``here`` serves them. ``nodes`` are the living nodes."""
    if level:
        own_level = [node for node in nodes if node.level == level]
        if any(node.id == here for node in own_level):
            return None
        if own_level:
            return min(own_level, key=lambda node: (node.participants, node.id))
    home_node = next((node for node in nodes if node.id == home), None)
    if home_node is None or home_node.id == here:
        return None
    return home_node

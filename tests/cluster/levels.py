"""The cascade's three level namespaces (province, city, county) for the namespace test.

The topology is bench/netns.py's :class:`~bench.netns.Levels`, shared with bench/levels.py (the
three-level meeting benchmark), so the namespaces, wires and ``setns`` call exist once.
"""

from bench.netns import NETWORK, TBF, Levels, Wire, can_create_namespaces

__all__ = ["NETWORK", "TBF", "Levels", "Wire", "can_create_namespaces"]

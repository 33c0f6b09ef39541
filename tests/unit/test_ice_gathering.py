"""Where the SFU gathers: IP addresses or interface names (server/sfu/ice.py)."""

from __future__ import annotations

import aioice
import pytest

from server.settings import SettingsError, load_settings
from server.sfu.ice import check_gather_entry, expand, gathering_on


@pytest.mark.parametrize("entry", ["192.168.1.20", "fe80::1", "eth0", "wlp2s0", "enp0s31f6.100"])
def test_addresses_and_interface_names_are_accepted(entry: str) -> None:
    assert check_gather_entry(entry) == entry


@pytest.mark.parametrize("entry", ["", "eth 0", "192.168.1.0/24", "a-very-long-interface-name"])
def test_anything_else_is_refused_when_settings_load(entry: str) -> None:
    with pytest.raises(SettingsError, match=r"sfu\.ice_gather_addresses"):
        load_settings(sfu={"ice_gather_addresses": [entry]})


def test_an_interface_stands_for_its_current_addresses() -> None:
    assert "127.0.0.1" in expand(["lo"])
    assert expand(["lo", "127.0.0.1"]).count("127.0.0.1") == 1
    assert expand(["no-such-if0"]) == []


async def test_gathering_on_an_interface_offers_only_its_addresses() -> None:
    connection = aioice.Connection(ice_controlling=True)
    try:
        with gathering_on(["lo"]):
            await connection.gather_candidates()
        hosts = {candidate.host for candidate in connection.local_candidates}
        assert "127.0.0.1" in hosts and hosts <= {"127.0.0.1", "::1"}
    finally:
        await connection.close()

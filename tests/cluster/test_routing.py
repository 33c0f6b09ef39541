"""Which node serves a participant: their level's node, else the meeting's home, else where they are."""

from __future__ import annotations

from server.cluster.directory import NodeRecord
from server.cluster.routing import serving_node

PROVINCE = NodeRecord("prov", "province", "https://prov.example")
CITY = NodeRecord("city", "city", "https://city.example", participants=4)
CITY_2 = NodeRecord("city-2", "city", "https://city2.example", participants=1)
COUNTY = NodeRecord("county", "county", "https://county.example")
ALL = [PROVINCE, CITY, COUNTY]


def test_a_person_goes_to_their_levels_node_wherever_the_meeting_lives() -> None:
    assert serving_node(ALL, here="prov", level="county", home="prov") == COUNTY
    assert serving_node(ALL, here="county", level="city", home="county") == CITY


def test_their_levels_node_serves_them_where_they_are() -> None:
    assert serving_node(ALL, here="county", level="county", home="prov") is None


def test_without_a_node_of_their_level_the_home_node_serves_them() -> None:
    assert serving_node([PROVINCE, COUNTY], here="county", level="city", home="prov") == PROVINCE
    assert serving_node(ALL, here="city", level="", home="prov") == PROVINCE  # an applicant, a guest


def test_with_no_living_home_the_node_reached_serves_and_becomes_home() -> None:
    assert serving_node(ALL, here="city", level="", home=None) is None
    assert serving_node([CITY, COUNTY], here="city", level="", home="prov") is None  # prov has expired
    assert serving_node(ALL, here="prov", level="", home="prov") is None


def test_among_nodes_of_one_level_the_least_busy_serves() -> None:
    assert serving_node([*ALL, CITY_2], here="prov", level="city", home="prov") == CITY_2
    assert serving_node([*ALL, CITY_2], here="city", level="city", home="prov") is None  # no bouncing

import pytest

from kyphos.rules.levels import (
    InvalidLevel,
    Region,
    are_adjacent,
    contiguous_runs,
    parse_level,
    parse_levels,
    region,
)


@pytest.mark.parametrize(
    "text,expected",
    [("T12", "T12"), ("t12", "T12"), ("T-12", "T12"), (" l 1 ", "L1"), ("T01", "T1"), ("L5", "L5")],
)
def test_it_reads_levels_as_staff_type_them(text: str, expected: str) -> None:
    assert parse_level(text) == expected


@pytest.mark.parametrize("text", ["L6", "T13", "T0", "C7", "S1", "", "12", "TL1", "L"])
def test_it_refuses_levels_outside_t1_to_l5(text: str) -> None:
    with pytest.raises(InvalidLevel):
        parse_level(text)


def test_it_names_the_bad_level_in_the_message() -> None:
    with pytest.raises(InvalidLevel, match="L6"):
        parse_level("L6")


def test_it_orders_and_deduplicates_a_list() -> None:
    assert parse_levels("L1, T12; t12 L3") == ("T12", "L1", "L3")
    assert parse_levels(["L2", "T4"]) == ("T4", "L2")


def test_it_refuses_an_empty_list() -> None:
    with pytest.raises(InvalidLevel):
        parse_levels("  ")


def test_thoracolumbar_junction_is_adjacent() -> None:
    assert are_adjacent("T12", "L1")
    assert are_adjacent("L1", "T12")
    assert not are_adjacent("T11", "L1")
    assert not are_adjacent("L2", "L2")


def test_region() -> None:
    assert region("T7") is Region.THORACIC
    assert region("L4") is Region.LUMBAR


def test_contiguous_runs() -> None:
    assert contiguous_runs(["L2", "T11", "T12"]) == [("T11", "T12"), ("L2",)]
    assert contiguous_runs(["T12", "L1", "L2"]) == [("T12", "L1", "L2")]

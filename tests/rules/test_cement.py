from datetime import UTC, datetime, timedelta

from kyphos.rules.cement import cement_times, products


def test_every_product_has_sourced_times() -> None:
    for product in products().values():
        assert product.source and product.working < product.setting


def test_generic_pmma_times_from_clinical_md() -> None:
    mixed = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)
    times = cement_times("generic-pmma", mixed)
    assert times.workable_until == mixed + timedelta(minutes=8, seconds=30)
    assert times.set_at == mixed + timedelta(minutes=13)

from decimal import Decimal

import pytest

from kyphos.rules.medicines import InvalidDose, UnknownDrug, catalogue, find_drug, parse_dose, search

# Every anticoagulant and antiplatelet in the SIR 2019 and ASRA 2018 drug tables must be in the catalogue.
CLINICAL_ANTITHROMBOTICS = [
    "warfarin",
    "heparin-iv",
    "heparin-sc",
    "enoxaparin",
    "dalteparin",
    "fondaparinux",
    "apixaban",
    "rivaroxaban",
    "edoxaban",
    "betrixaban",
    "dabigatran",
    "argatroban",
    "bivalirudin",
    "aspirin",
    "aspirin-dipyridamole",
    "dipyridamole",
    "clopidogrel",
    "prasugrel",
    "ticagrelor",
    "cangrelor",
    "abciximab",
    "eptifibatide",
    "tirofiban",
    "cilostazol",
]


def test_the_catalogue_covers_the_clinical_tables() -> None:
    for drug_id in CLINICAL_ANTITHROMBOTICS:
        assert catalogue()[drug_id].antithrombotic
    classes = {d.drug_class for d in catalogue().values()}
    assert {"nsaid", "opioid", "insulin", "oral_diabetes", "glp1"} <= classes


@pytest.mark.parametrize(
    "text,drug_id",
    [
        ("Eliquis", "apixaban"),
        ("eliquis", "apixaban"),
        ("XARELTO", "rivaroxaban"),
        ("Plavix", "clopidogrel"),
        ("Ozempic", "semaglutide"),
        ("Percocet", "oxycodone-acetaminophen"),
        ("warfarin", "warfarin"),
    ],
)
def test_brand_and_generic_names(text: str, drug_id: str) -> None:
    assert find_drug(text).id == drug_id


def test_unknown_name() -> None:
    with pytest.raises(UnknownDrug, match="not in the medicine catalogue"):
        find_drug("aspirine forte")


def test_search_matches_as_the_nurse_types() -> None:
    assert [d.id for d in search("eli")][:1] == ["apixaban"]
    assert "clopidogrel" in [d.id for d in search("plav")]
    assert search("") == []
    ids = [d.id for d in search("insulin")]
    assert len(ids) >= 5 and all(i.startswith("insulin") for i in ids)


@pytest.mark.parametrize(
    "text,amount,unit",
    [
        ("5 mg", Decimal(5), "mg"),
        ("2.5mg", Decimal("2.5"), "mg"),
        ("40 Units", Decimal(40), "units"),
        ("0,5 mg", Decimal("0.5"), "mg"),
    ],
)
def test_parse_dose(text: str, amount: Decimal, unit: str) -> None:
    assert parse_dose(text) == (amount, unit)


@pytest.mark.parametrize("text", ["0 mg", "-5 mg", "5", "five mg", "5 tablets", "20000 mg", "", "5 mg twice"])
def test_impossible_doses_are_refused(text: str) -> None:
    with pytest.raises(InvalidDose):
        parse_dose(text)

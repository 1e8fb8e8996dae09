"""How laboratories name and measure the tests Kyphos keeps: the other LOINC codes they send for the same test,
and the factor from each unit they send to the unit Kyphos keeps (``labs.toml``). The HL7 lab feed and the FHIR
API read the same table."""

from __future__ import annotations

from decimal import Decimal

# LOINC codes laboratories commonly send for the same tests besides the one Kyphos files them under (LOINC,
# Regenstrief Institute, https://loinc.org): INR in blood and capillary blood, hCG in serum, platelets in blood,
# creatinine in blood.
ALSO_LOINC = {"34714-6": "inr", "46418-0": "inr", "2118-8": "hcg", "26515-7": "platelets", "38483-4": "creatinine"}
# Unit conversions to the unit each test is kept in (labs.toml): factor by unit as sent, case and spaces ignored.
# Platelets 10^3/µL = 10^9/L; hemoglobin g/L ÷ 10 and mmol/L × 1.611 (per Fe, the SI unit); creatinine
# µmol/L ÷ 88.42 (molar mass 113.12 g/mol).
UNITS: dict[str, dict[str, Decimal]] = {
    "inr": {"": Decimal(1), "{INR}": Decimal(1), "INR": Decimal(1), "RATIO": Decimal(1), "{RATIO}": Decimal(1)},
    "pt": {"S": Decimal(1), "SEC": Decimal(1), "SECONDS": Decimal(1)},
    "platelets": {
        unit: Decimal(1)
        for unit in (
            "10*9/L",
            "10^9/L",
            "10E9/L",
            "G/L",
            "10*3/UL",
            "10^3/UL",
            "X10E3/UL",
            "K/UL",
            "10*3/ΜL",
            "10^3/ΜL",
        )
    }
    | {"/UL": Decimal("0.001"), "/ΜL": Decimal("0.001")},
    "hemoglobin": {"G/DL": Decimal(1), "G/L": Decimal("0.1"), "MMOL/L": Decimal("1.611")},
    "creatinine": {"MG/DL": Decimal(1), "UMOL/L": 1 / Decimal("88.42"), "ΜMOL/L": 1 / Decimal("88.42")},
    "egfr": {"ML/MIN/1.73M2": Decimal(1), "ML/MIN/{1.73_M2}": Decimal(1), "ML/MIN/1.73 M2": Decimal(1)},
    "crcl": {"ML/MIN": Decimal(1)},
    "aptt": {"S": Decimal(1), "SEC": Decimal(1)},
    "antixa": {"IU/ML": Decimal(1), "[IU]/ML": Decimal(1), "U/ML": Decimal(1)},
}

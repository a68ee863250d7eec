"""Regenerates pipelines/penguin/data/penguins_processed.csv.

Source: ``penguins.csv`` from the ``palmerpenguins`` package (pass its path).
The processing matches the TFX penguin example: rows with a missing
measurement are dropped, species becomes 0/1/2 (Adelie, Chinstrap, Gentoo),
and the four measurements are min-max scaled to [0, 1].

    python tools/make_penguin_csv.py path/to/palmerpenguins/data/penguins.csv
"""

import csv
import sys
from pathlib import Path

SPECIES = ("Adelie", "Chinstrap", "Gentoo")
MEASUREMENTS = {  # our column name -> palmerpenguins column name
    "culmen_length_mm": "bill_length_mm",
    "culmen_depth_mm": "bill_depth_mm",
    "flipper_length_mm": "flipper_length_mm",
    "body_mass_g": "body_mass_g",
}
OUTPUT = Path(__file__).resolve().parents[1] / "pipelines/penguin/data/penguins_processed.csv"


def main(source: str) -> int:
    with open(source, newline="") as f:
        rows = [r for r in csv.DictReader(f) if all(r[c] not in ("", "NA") for c in MEASUREMENTS.values())]
    lo = {c: min(float(r[c]) for r in rows) for c in MEASUREMENTS.values()}
    hi = {c: max(float(r[c]) for r in rows) for c in MEASUREMENTS.values()}
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUTPUT, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["species", *MEASUREMENTS])
        for r in rows:
            scaled = [round((float(r[c]) - lo[c]) / (hi[c] - lo[c]), 6) for c in MEASUREMENTS.values()]
            writer.writerow([SPECIES.index(r["species"]), *scaled])
    print(f"wrote {len(rows)} rows to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

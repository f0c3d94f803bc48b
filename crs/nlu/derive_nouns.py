"""Derive ``crs/catalog/lexicon/surname_nouns.txt``: surnames that are everyday nouns.

A one-word surname links to a person ("I like Spielberg"), but some surnames are also
common nouns people write in lower case ("a zombie movie" is no Rob Zombie film, "a stone
age movie" no Oliver Stone one). This finds them in the corpus itself: a word that is the
last word of some credited person's name and that the corpus plots use in lower case (mid-sentence) at least as often as capitalised, and at least
``MIN_LOWER`` times. Run it on the full store after a rebuild:

    python -m crs.nlu.derive_nouns --store-dir data/store

The output is a derived word list (no plot text) read by :class:`crs.nlu.people.PeopleIndex`.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from importlib import resources
from pathlib import Path

from tqdm import tqdm

from crs.catalog.normalize import ascii_fold

MIN_LOWER = 3
_WORD = re.compile(r"[A-Za-z]+|[.!?;:\"]")
OUT_NAME = "surname_nouns.txt"


def derive(movies) -> list[str]:
    """The surnames of ``movies``' credits that their plots use as lower-case words (keywords are
    always lower case, so they say nothing)."""
    surnames = set()
    for m in movies:
        for person in (*m.directors, *m.cast, *m.writers):
            parts = ascii_fold(person).split()
            if len(parts) >= 2 and parts[-1].isalpha() and len(parts[-1]) > 2:
                surnames.add(parts[-1].lower())
    lower: Counter[str] = Counter()
    upper: Counter[str] = Counter()
    for m in tqdm(movies, desc="plots", unit="movie", mininterval=1.0):
        start = True
        for tok in _WORD.findall(ascii_fold(m.plot or "")):
            if not tok[0].isalpha():
                start = True
                continue
            low = tok.lower()
            if low in surnames and not start:
                (lower if tok[0].islower() else upper)[low] += 1
            start = False
    return sorted(w for w in surnames if lower[w] >= MIN_LOWER and lower[w] >= upper[w])


def main(argv: list[str] | None = None) -> None:
    from crs.catalog import store_files

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store-dir", type=Path, default=Path("data/store"))
    parser.add_argument("--out", type=Path, default=None, help="default: the packaged lexicon file")
    args = parser.parse_args(argv)
    if not (args.store_dir / store_files.TABLE).exists():
        raise SystemExit(f"no movie table in {args.store_dir}: run 'crs corpus build' first")
    words = derive(store_files.read_table(args.store_dir))
    out = args.out or Path(str(resources.files("crs.catalog").joinpath("lexicon", OUT_NAME)))
    header = ("# Surnames of credited people that corpus plots use as lower-case words (>= 3 times,\n"
              "# at least as often as capitalised); derived by `python -m crs.nlu.derive_nouns`, no plot text.\n")
    out.write_text(header + "\n".join(words) + "\n", encoding="utf-8")
    print(f"{len(words)} words -> {out}")


if __name__ == "__main__":
    main()

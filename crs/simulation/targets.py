"""Which movies the simulated users look for: the recommender-mentioned movies of held-out
dialogues, mapped to corpus movies.

Every dialogue contributes its first target that (a) the recommender brought up without
the seeker naming it first (the ``dedup`` protocol of EVALUATION.md) and (b) exists in
the corpus with some metadata, so a few talkative dialogues do not dominate the sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from crs.catalog.linker import TitleLinker
from crs.catalog.models import Movie, MovieIndex


@dataclass(frozen=True)
class SimTarget:
    """One simulation sample.

    Attributes:
        dialog_id: The dialogue the target comes from.
        movie: The corpus movie the simulated user wants (its title is never said).
        label: The target as the dataset names it ("Heat (1995)").
    """

    dialog_id: str
    movie: Movie
    label: str


def load_targets(dataset: str, file: Path, data_dir: Path, index: MovieIndex, linker: TitleLinker,
                 limit: int | None = None) -> list[SimTarget]:
    """The first ``limit`` targets of ``file`` (any format ``crs evaluate`` reads).

    Raises:
        FileNotFoundError / DatasetFormatError: a missing or malformed file (file:line).
    """
    from crs.datasets import read_samples
    from crs.evaluation.variants import Dataset, load_catalogue

    catalogue = load_catalogue(Dataset(dataset), Path(data_dir))
    labels = dict(zip(catalogue.ids, catalogue.labels))
    out: list[SimTarget] = []
    done: set[str] = set()
    for sample in read_samples(Path(file), catalogue):
        if limit is not None and len(out) >= limit:
            break
        if sample.dialog_id in done or sample.repeated or sample.target is None:
            continue
        label = labels.get(sample.target, sample.target_label)
        movie = _corpus_movie(dataset, sample.target, label, index, linker)
        if movie is not None and (movie.genres or movie.directors or movie.cast):
            done.add(sample.dialog_id)
            out.append(SimTarget(sample.dialog_id, movie, label))
    return out


def _corpus_movie(dataset: str, item_id: str, label: str, index: MovieIndex, linker: TitleLinker) -> Movie | None:
    """ReDial ids are corpus ids; other datasets are matched by "Title (Year)"."""
    if dataset == "redial" and (movie := index.get(item_id)) is not None:
        return movie
    mention = linker.resolve_title(label)
    if mention is None:
        return None
    return mention.chosen or (mention.candidates[0] if mention.candidates else None)

"""Corpus sources, merging, building, adding movies and the ``crs corpus`` commands."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from crs.catalog import store_files as files
from crs.catalog.store import CorpusMissingError, MovieStore
from crs.corpus.build import AddFileError, add_movies, build_corpus, read_movie_file
from crs.corpus.genres import GENRES, normalize_genre, normalize_genres
from crs.corpus.sources import split_movielens_title
from crs.settings import Settings

EXTRA_MOVIES = Path(__file__).resolve().parent.parent / "data" / "extra_movies.jsonl"


# -- pure helpers -----------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("Sci-Fi", "sci-fi"), ("Science Fiction", "sci-fi"), ("Children's", "family"),
    ("Children", "family"), ("Film-Noir", "film-noir"), ("TV Movie", "tv-movie"),
    ("IMAX", None), ("(no genres listed)", None), ("Western", "western"),
])
def test_genre_names_map_to_one_vocabulary(name: str, expected: str | None) -> None:
    assert normalize_genre(name) == expected


def test_normalize_genres_drops_duplicates_and_non_genres() -> None:
    assert normalize_genres(["Children", "Family", "IMAX", "Comedy"]) == ("family", "comedy")


@pytest.mark.parametrize("raw, expected", [
    ("Matrix, The (1999)", ("The Matrix", 1999, ())),
    ("Twelve Monkeys (a.k.a. 12 Monkeys) (1995)", ("Twelve Monkeys", 1995, ("12 Monkeys",))),
    ("Heat (1995)", ("Heat", 1995, ())),
    ("(500) Days of Summer (2009)", ("(500) Days of Summer", 2009, ())),
    ("Terrible Joe Moran", ("Terrible Joe Moran", None, ())),
])
def test_movielens_titles_are_split(raw: str, expected: tuple) -> None:
    assert split_movielens_title(raw) == expected


def test_movie_file_validation_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    good_line = json.dumps({"id": "x1", "title": "Fine"})
    bad.write_text("\n".join([
        good_line,
        "{not json",
        json.dumps({"id": "x2"}),
        json.dumps({"id": "x3", "title": "T", "rating": 5}),
        json.dumps({"id": "x4", "title": "T", "genres": "drama"}),
        json.dumps({"id": "x5", "title": "T", "year": "nineteen"}),
        good_line,
    ]) + "\n")
    with pytest.raises(AddFileError) as info:
        read_movie_file(bad)
    message = str(info.value)
    for line in (2, 3, 4, 5, 6, 7):
        assert f"{bad}:{line}:" in message
    assert f"{bad}:1:" not in message


def test_extra_movies_file_is_valid() -> None:
    movies = read_movie_file(EXTRA_MOVIES)
    assert len(movies) >= 3
    assert all(m.year == 2026 and m.plot and m.genres and m.directors for m in movies)
    assert all(set(m.genres) <= set(GENRES) for m in movies)


# -- reading the real sources ---------------------------------------------------------

@pytest.fixture(scope="module")
def all_movies(small_store: Settings):
    from crs.corpus.merge import load_movies

    return load_movies(small_store.data_dir, include_movielens=True)


def _mention_ids(settings: Settings) -> list[tuple[str, int]]:
    with (settings.data_dir / "redial" / "movies_with_mentions.csv").open(newline="") as handle:
        return [(row["movieId"], int(row["nbMentions"])) for row in csv.DictReader(handle)]


@pytest.mark.slow
def test_full_corpus_covers_redial_and_merges_movielens(all_movies, small_store: Settings) -> None:
    by_id = {m.id: m for m in all_movies}
    assert len(by_id) == len(all_movies), "ids must be unique"
    assert {i for i, _ in _mention_ids(small_store)} <= set(by_id)
    assert len(all_movies) > 85_000
    heat = by_id["176314"]
    assert (heat.title, heat.year, heat.directors) == ("Heat", 1995, ("Michael Mann",))
    assert heat.movielens_id == "6" and "crime" in heat.genres and heat.keywords
    # MovieLens' Heat was merged into the ReDial record, not added twice.
    assert "ml6" not in by_id
    redial_imdb = {m.imdb_id for m in all_movies if m.redial_id and m.imdb_id}
    duplicates = [m for m in all_movies if m.id.startswith("ml") and m.imdb_id in redial_imdb]
    assert len(duplicates) <= 5
    assert {g for m in all_movies for g in m.genres} <= set(GENRES)


@pytest.mark.slow
def test_movielens_long_tail_is_cleaned(all_movies) -> None:
    by_id = {m.id: m for m in all_movies}
    twins = by_id["ml38"]  # MovieLens "It Takes Two (1995)", Children|Comedy
    assert (twins.title, twins.year, twins.genres) == ("It Takes Two", 1995, ("family", "comedy"))
    assert twins.plot and twins.cast, "the TMDB overview and cast fill the gaps"
    assert by_id["84248"].title == "The City of Lost Children"  # merged into ReDial
    assert not any(m.title.endswith(", The") for m in all_movies)


@pytest.mark.slow
def test_redial_records_holding_another_films_metadata_lose_it(all_movies) -> None:
    """ReDial's "It (1990)" (191 mentions) carried Goodfellas' plot, cast and IMDb id, so the app
    listed "It (1990)" as a Scorsese crime biography; "Ex Machina (2015)" carried another film's."""
    by_id = {m.id: m for m in all_movies}
    for movie_id in ("204794", "116076", "117126"):  # It (1990), It (2004), Ex Machina (2015)
        movie = by_id[movie_id]
        assert "Martin Scorsese" not in movie.directors and "Andrew Goth" not in movie.directors, movie
        assert "Henry Hill" not in movie.plot and "Cady Heron" not in movie.plot
    assert by_id["143198"].directors == ("Martin Scorsese",)  # Goodfellas keeps its own
    ex_machina = by_id["117126"]  # matched to MovieLens's Ex Machina by title, TMDB fills the rest
    assert "sci-fi" in ex_machina.genres and "Caleb" in ex_machina.plot


def test_borrowed_metadata_rules() -> None:
    from crs.catalog.models import Movie
    from crs.corpus.merge import drop_borrowed_metadata

    goodfellas = Movie("1", "Goodfellas", 1990, ("crime",), ("Martin Scorsese",), imdb_id="tt1", popularity=9)
    it = Movie("2", "It", 1990, ("crime",), ("Martin Scorsese",), imdb_id="tt1", popularity=20)
    fast = Movie("3", "Fast 8", None, ("action",), ("F. Gary Gray",), imdb_id="tt2")  # no year: an alias
    alias = Movie("4", "Annabelle 2", 2017, ("horror",), ("David F. Sandberg",), imdb_id="tt3")  # shares a word
    typo = Movie("5", "The Prisoner", 2013, ("crime",), ("Denis Villeneuve",), imdb_id="tt4")
    movielens = [(Movie("ml1", "Goodfellas", 1990, imdb_id="tt1"), ()),
                 (Movie("ml2", "The Fate of the Furious", 2017, imdb_id="tt2"), ()),
                 (Movie("ml3", "Annabelle: Creation", 2017, imdb_id="tt3"), ()),
                 (Movie("ml4", "Prisoners", 2013, imdb_id="tt4"), ())]
    out = drop_borrowed_metadata([goodfellas, it, fast, alias, typo], movielens)
    assert out[0] is goodfellas and out[2] is fast and out[3] is alias and out[4] is typo
    assert (out[1].title, out[1].year, out[1].popularity, out[1].directors, out[1].imdb_id) == ("It", 1990, 20, (), None)


# -- building -------------------------------------------------------------------------

@pytest.mark.slow
def test_small_store_holds_the_most_mentioned_redial_movies(small_store: Settings, movie_store: MovieStore,
                                                            small_store_limit: int) -> None:
    manifest = files.read_manifest(small_store.store_dir)
    assert manifest["count"] == small_store_limit == len(movie_store)
    assert manifest["redial_count"] == small_store_limit
    mentions = sorted(_mention_ids(small_store), key=lambda item: -item[1])
    threshold = mentions[small_store_limit - 1][1]
    assert all(mentions_count >= threshold for mentions_count in
               (dict(mentions)[m.id] for m in movie_store.index.movies))
    matrix = movie_store.index.get("85036")
    assert (matrix.title, matrix.year) == ("The Matrix", 1999)
    assert {"action", "sci-fi"} <= set(matrix.genres)
    assert matrix.popularity == dict(mentions)["85036"]


@pytest.mark.slow
def test_rebuild_with_same_inputs_is_a_no_op(small_store: Settings, embedder, small_store_limit: int) -> None:
    table = small_store.store_dir / files.TABLE
    before = table.stat().st_mtime_ns
    result = build_corpus(small_store, limit=small_store_limit, include_movielens=False,
                          progress=False, embedder=embedder)
    assert result.skipped and result.count == small_store_limit
    assert "up to date" in result.message
    assert table.stat().st_mtime_ns == before


@pytest.mark.slow
def test_interrupted_or_corrupt_store_is_refused_and_rebuilt(tmp_path: Path, embedder, make_settings) -> None:
    settings = make_settings(tmp_path)
    first = build_corpus(settings, limit=20, include_movielens=False, progress=False, embedder=embedder)
    assert not first.skipped and first.embedded == 20
    files.remove_manifest(settings.store_dir)  # as if the build died before its last step
    with pytest.raises(CorpusMissingError, match='run "crs corpus build"'):
        MovieStore.open(settings.store_dir, embedder)
    result = build_corpus(settings, limit=20, include_movielens=False, progress=False, embedder=embedder)
    assert not result.skipped and len(MovieStore.open(settings.store_dir, embedder)) == 20
    assert result.embedded == 0, "unchanged texts reuse the vectors already in Chroma"
    bigger = build_corpus(settings, limit=25, include_movielens=False, progress=False, embedder=embedder)
    assert bigger.embedded == 5 and bigger.count == 25
    # Chroma leaves deleted collections' index folders behind; rebuilds remove them.
    folders = [p for p in (settings.store_dir / files.CHROMA_DIR).iterdir() if p.is_dir()]
    assert len(folders) == 1

    table = settings.store_dir / files.TABLE
    table.write_text(table.read_text().splitlines()[0] + "\n{broken\n")
    with pytest.raises(CorpusMissingError, match="unreadable movie table"):
        MovieStore.open(settings.store_dir, embedder)
    assert not build_corpus(settings, limit=25, include_movielens=False, progress=False,
                            embedder=embedder).skipped
    assert len(MovieStore.open(settings.store_dir, embedder)) == 25


def test_missing_store_raises_an_actionable_error(tmp_path: Path, embedder) -> None:
    with pytest.raises(CorpusMissingError) as info:
        MovieStore.open(tmp_path / "nowhere", embedder)
    assert str(info.value) == f'No movie corpus at {tmp_path / "nowhere"}: run "crs corpus build"'


# -- adding movies --------------------------------------------------------------------

@pytest.mark.slow
def test_added_movies_are_searchable_at_once(writable_store: Settings, embedder, small_store_limit: int) -> None:
    extra = read_movie_file(EXTRA_MOVIES)
    assert add_movies(writable_store, EXTRA_MOVIES, embedder=embedder) == len(extra)
    store = MovieStore.open(writable_store.store_dir, embedder)
    assert len(store) == small_store_limit + len(extra)
    hits = store.search_text("space cadets fly a diner to save the pancakes from an alien emperor", 3)
    assert hits[0][0].id == "extra-2026-002"
    assert files.read_manifest(writable_store.store_dir)["added"][0]["count"] == len(extra)
    # A rebuild with the same inputs keeps them (it is a no-op).
    assert build_corpus(writable_store, limit=small_store_limit, include_movielens=False,
                        progress=False, embedder=embedder).skipped
    assert "extra-2026-001" in MovieStore.open(writable_store.store_dir, embedder).index


@pytest.mark.slow
def test_open_store_sees_its_own_additions(writable_store: Settings, embedder) -> None:
    store = MovieStore.open(writable_store.store_dir, embedder)
    ghost = [m for m in read_movie_file(EXTRA_MOVIES) if m.id == "extra-2026-004"]
    store.add_movies(ghost)
    hits = store.search_text("dead patients haunt a mountain sanatorium night nurse", 1)
    assert hits[0][0].id == "extra-2026-004"
    assert store.vectors(["extra-2026-004"]).shape == (1, 384)


@pytest.mark.slow
def test_malformed_add_file_adds_nothing(writable_store: Settings, embedder, tmp_path: Path,
                                         small_store_limit: int) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "ok-1", "title": "Fine Movie"}) + "\n" + '{"id": "no-title"}\n')
    with pytest.raises(AddFileError, match=f"{bad}:2:"):
        add_movies(writable_store, bad, embedder=embedder)
    store = MovieStore.open(writable_store.store_dir, embedder)
    assert len(store) == small_store_limit and "ok-1" not in store.index


# -- the command line -----------------------------------------------------------------

def _cli() -> typer.Typer:
    from crs.corpus.cli import register

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def _root() -> None:
        """Test root."""

    register(app)
    return app


@pytest.mark.slow
def test_cli_build_add_info_end_to_end(tmp_path: Path) -> None:
    runner = CliRunner()
    app = _cli()
    store = tmp_path / "store"
    args = ["corpus", "build", "--store-dir", str(store), "--limit", "300", "--no-movielens"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "300 movies" in result.stdout
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "up to date" in again.stdout

    added = runner.invoke(app, ["corpus", "add", str(EXTRA_MOVIES), "--store-dir", str(store)])
    assert added.exit_code == 0, added.output
    info = runner.invoke(app, ["corpus", "info", "--store-dir", str(store), "--json"])
    assert json.loads(info.stdout)["count"] == 300 + len(read_movie_file(EXTRA_MOVIES))

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "title": "A"}\n{"title": "no id"}\n')
    refused = runner.invoke(app, ["corpus", "add", str(bad), "--store-dir", str(store)])
    assert refused.exit_code == 2
    assert f"{bad}:2:" in refused.stderr and "Traceback" not in refused.output


def test_cli_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    runner = CliRunner()
    app = _cli()
    missing = runner.invoke(app, ["corpus", "info", "--store-dir", str(tmp_path / "none")])
    assert missing.exit_code == 1
    assert missing.stderr.strip() == f'Error: No movie corpus at {tmp_path / "none"}: run "crs corpus build"'
    no_data = runner.invoke(app, ["corpus", "build", "--data-dir", str(tmp_path), "--store-dir",
                                  str(tmp_path / "s")])
    assert no_data.exit_code == 2 and "Source file missing" in no_data.stderr
    assert len(no_data.stderr.strip().splitlines()) == 1

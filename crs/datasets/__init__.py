"""Typed readers of the research datasets (ReDial, OpenDialKG) and their evaluation samples."""

from crs.datasets.catalogue import Catalogue, TitleMatcher
from crs.datasets.formats import FileFormat, detect_format, read_samples
from crs.datasets.opendialkg import ItemInfo, OpenDialKGVocab, load_opendialkg_catalogue, load_opendialkg_vocab
from crs.datasets.rec_turns import read_rec_turns
from crs.datasets.redial import dialogue_samples, load_redial_catalogue, read_dialogues, read_reduced_qa
from crs.datasets.samples import DatasetFormatError, Dialogue, EvalSample, Mention, Role, Utterance

__all__ = [
    "Catalogue", "DatasetFormatError", "Dialogue", "EvalSample", "FileFormat", "ItemInfo", "Mention",
    "OpenDialKGVocab", "Role", "TitleMatcher", "Utterance", "detect_format", "dialogue_samples",
    "load_opendialkg_catalogue", "load_opendialkg_vocab", "load_redial_catalogue", "read_dialogues",
    "read_rec_turns", "read_reduced_qa", "read_samples",
]

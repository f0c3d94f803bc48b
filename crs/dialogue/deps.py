"""What the nodes need, passed in once when the graph is built."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crs.catalog.models import MovieIndex
from crs.nlu.rules import RuleNLU
from crs.prompts import PromptLibrary
from crs.recommender.explain import Explainer
from crs.recommender.pipeline import Recommender


@dataclass(frozen=True)
class DialogueDeps:
    nlu: RuleNLU
    recommender: Recommender
    explainer: Explainer
    prompts: PromptLibrary
    index: MovieIndex
    n_recommendations: int = 5
    nlu_refiner: Any = None  # crs.nlu.llm_refine.LLMRefiner when CRS_LLM_NLU is on

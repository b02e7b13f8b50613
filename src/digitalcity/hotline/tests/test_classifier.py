"""The dispatch classifier: training on dispatched orders, the stored JSON model,
suggestions with confidence and driving words, and what it says without data."""

from __future__ import annotations

import io
import json
import random

import pytest
from django.core.management import call_command

from digitalcity.hotline import classifier
from digitalcity.hotline.models import DispatchModel, WorkOrder
from digitalcity.hotline.open311.jobs import register_jobs

from .factories import make_order

TOPICS = {
    "a": (
        ["垃圾", "清运", "占道经营", "违章搭建", "乱堆乱放", "小广告"],
        ["小区门口{w}问题严重", "{w}好几天没人管", "街边{w}影响通行", "楼下{w}请城管处理"],
    ),
    "b": (
        ["停水", "水压低", "水管爆裂", "自来水浑浊", "水表漏水"],
        ["家里{w}已经两天", "整栋楼{w}请尽快抢修", "{w}影响正常生活", "突然{w}没有通知"],
    ),
    "gov": (
        ["噪声", "夜间施工", "广场舞", "装修噪音"],
        ["附近{w}扰民", "{w}到凌晨还不停", "{w}严重影响休息", "投诉{w}问题"],
    ),
}


def dispatched(hw, n_per_department=12, seed=7):
    rng = random.Random(seed)
    departments = {"a": hw.p.department_a, "b": hw.p.department_b, "gov": hw.district_gov}
    for key, department in departments.items():
        words, patterns = TOPICS[key]
        for _ in range(n_per_department):
            text = (
                rng.choice(patterns).format(w=rng.choice(words))
                + "，"
                + rng.choice(patterns).format(w=rng.choice(words))
            )
            order = make_order(hw, description=text)
            # The lead department is what dispatch records; the lifecycle itself is
            # tested in test_lifecycle.py.
            WorkOrder.objects.filter(pk=order.pk).update(lead_department=department)
    return departments


def test_without_a_model_it_suggests_nothing_and_says_why(db):
    result = classifier.suggest("小区垃圾没人清运")
    assert list(result) == []
    assert not result
    assert "digitalcity hotline train" in result.reason


def test_training_with_too_few_orders_stores_nothing_and_says_why(hw):
    make_order(hw)
    result = classifier.train()
    assert not result.trained
    assert "至少需要" in result.message
    assert DispatchModel.objects.count() == 0


def test_it_learns_the_departments_and_shows_the_words_that_drove_it(hw):
    departments = dispatched(hw)
    result = classifier.train()
    assert result.trained
    assert result.samples == 36
    assert result.accuracy is not None
    assert result.accuracy >= 0.8
    assert "留出" in result.message

    suggestions = classifier.suggest("我家小区楼下垃圾堆了一周没人清运", top=3)
    assert len(suggestions) == 3
    best = suggestions[0]
    department, confidence, words = best  # unpacks as the console expects
    assert department == departments["a"]
    assert best.department_id == departments["a"].pk
    assert confidence > suggestions[1].confidence
    assert 0 < confidence <= 1
    assert "垃圾" in words or "清运" in words
    assert sum(s.confidence for s in suggestions) == pytest.approx(1, abs=1e-3)

    assert classifier.suggest("凌晨装修噪音扰民")[0].department == departments["gov"]
    assert classifier.suggest("水管爆裂全楼停水")[0].department == departments["b"]


def test_the_stored_model_is_json_arrays_and_matches_scikit_learn(hw):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    dispatched(hw)
    classifier.train()
    model = DispatchModel.objects.get()
    stored = json.dumps([model.classes, model.vocabulary, model.idf, model.coef, model.intercept])
    assert stored  # plain JSON, no pickle
    assert len(model.coef) == len(model.classes) == 3
    assert len(model.coef[0]) == len(model.vocabulary) == len(model.idf)

    # Our numpy inference reproduces scikit-learn's own probabilities.
    texts, labels = classifier.training_data()
    vectorizer = TfidfVectorizer(analyzer=classifier.tokens, max_features=classifier.MAX_FEATURES)
    reference = LogisticRegression(max_iter=1000, C=10.0).fit(
        vectorizer.fit_transform(texts), labels
    )
    text = "街边占道经营影响通行，垃圾也没人清运"
    expected = reference.predict_proba(vectorizer.transform([text]))[0]
    got = {s.department_id: s.confidence for s in classifier.suggest(text, top=3)}
    for cls, probability in zip(reference.classes_, expected, strict=True):
        assert got[int(cls)] == pytest.approx(probability, abs=1e-3)


def test_two_departments_use_the_binary_model_correctly(hw):
    departments = dispatched(hw)
    WorkOrder.objects.filter(lead_department=departments["gov"]).update(lead_department=None)
    classifier.train()
    suggestions = classifier.suggest("停水两天了")
    assert suggestions[0].department == departments["b"]
    assert len(suggestions) == 2


def test_text_without_known_words_gets_a_reason(hw):
    dispatched(hw)
    classifier.train()
    result = classifier.suggest("？？？")
    assert list(result) == []
    assert "没有派单模型认识的词语" in result.reason


def test_every_training_makes_a_new_version_and_the_newest_is_used(hw):
    departments = dispatched(hw)
    assert classifier.train().version == 1
    WorkOrder.objects.filter(lead_department=departments["a"]).update(
        lead_department=departments["b"]
    )
    assert classifier.train().version == 2
    assert (
        classifier.suggest("垃圾没人清运").model_version == DispatchModel.objects.get(version=2).pk
    )
    assert classifier.suggest("垃圾没人清运")[0].department == departments["b"]


def test_the_command_prints_the_version_and_held_out_accuracy(hw):
    dispatched(hw)
    out = io.StringIO()
    call_command("hotline", "train", stdout=out)
    assert "派单模型第 1 版" in out.getvalue()
    assert "准确率" in out.getvalue()


def test_the_periodic_job_retrains_only_after_enough_new_orders(hw):
    dispatched(hw)
    first = classifier.periodic_train()
    assert "第 1 版" in first
    assert classifier.periodic_train().startswith("skipped")
    assert DispatchModel.objects.count() == 1


def test_the_jobs_are_registered(db):
    from digitalcity.core.worker import periodic_jobs

    register_jobs()
    names = {job.name for job in periodic_jobs()}
    assert {"hotline.classifier", "hotline.open311_tokens"} <= names

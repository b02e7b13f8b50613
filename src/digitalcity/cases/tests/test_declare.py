"""Declarations are validated when registered."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from digitalcity.cases.declare import (
    CaseType,
    ClockSpec,
    State,
    TaskSpec,
    Transition,
    all_types,
    get_type,
    register,
)
from digitalcity.cases.examples import EXAMPLE_PARALLEL


def _type(**overrides):
    kwargs: dict[str, Any] = {
        "code": "test.decl",
        "prefix": "TT",
        "name": "声明测试",
        "states": [State("new", "新", initial=True), State("done", "办结", final=True)],
        "transitions": [
            Transition("finish", "办结", source=("new",), target="done", starts=("c",))
        ],
        "clocks": [ClockSpec("c", "时限")],
    }
    kwargs.update(overrides)
    return CaseType(**kwargs)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"states": [State("new", "新", initial=True), State("done", "办结")]}, "终止状态"),
        (
            {
                "states": [
                    State("new", "新", initial=True),
                    State("done", "办结", final=True),
                    State("lost", "孤", final=True),
                ]
            },
            "'lost' 从初始状态不可达",
        ),
        (
            {"transitions": [Transition("finish", "办结", source=("nowhere",), target="done")]},
            "起始状态 'nowhere'",
        ),
        (
            {
                "transitions": [
                    Transition("finish", "办结", source=("new",), target="done", roles=("boss",))
                ]
            },
            "角色 'boss'",
        ),
        (
            {
                "states": [
                    State("new", "新", initial=True, pauses=("ghost",)),
                    State("done", "办结", final=True),
                ]
            },
            "暂停的时限 'ghost' 未声明",
        ),
        (
            {
                "transitions": [
                    Transition("finish", "办结", source=("new",), target="done", creates=("x",))
                ]
            },
            "任务 'x'",
        ),
        ({"tasks": [TaskSpec("t", "任务", on_join="nope")]}, "流转 'nope'"),
        ({"prefix": "x1"}, "编号前缀"),
        ({"code": "nodot"}, "类型代码"),
        ({"reopen_on_dissatisfied": "finish"}, "须从终止状态出发"),
    ],
)
def test_a_broken_declaration_is_refused_at_registration(overrides, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        register(_type(**overrides))
    with pytest.raises(ImproperlyConfigured):
        get_type("test.decl")


def test_registering_the_same_declaration_twice_is_harmless_but_a_clash_is_not():
    register(EXAMPLE_PARALLEL)
    assert get_type("example.parallel") is not None
    with pytest.raises(ImproperlyConfigured, match="已被另一声明占用"):
        register(_type(code="example.parallel", prefix="EX"))
    assert "example.parallel" in [t.code for t in all_types()]

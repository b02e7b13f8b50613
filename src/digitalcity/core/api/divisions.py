"""core divisions endpoints: look up one division (with its path and children) and search.

Divisions are public reference data (the codes are published by 民政部 and 国家统计局),
so these endpoints need no login.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from digitalcity.core import divisions as services
from digitalcity.core.models import Division, DivisionLevel

router = Router(tags=["divisions"])


class DivisionOut(Schema):
    code: str = Field(description="区划代码：6 位（GB/T 2260）、9 位（乡级）或 12 位（村级）")
    name: str = Field(description="名称")
    level: DivisionLevel = Field(description="级别：province/city/county/township/community")
    level_label: str = Field(description="级别名称（中文）")
    source: str = Field(
        description="数据来源：gbt2260（民政部）、nbs（国家统计局）、local（本地维护）"
    )
    valid_from: int | None = Field(description="启用年份（空表示列表开始前已存在）")
    valid_until: int | None = Field(description="撤销年份（空表示现行有效）")
    is_current: bool = Field(description="是否现行有效")

    @staticmethod
    def resolve_level_label(obj: Division) -> str:
        return str(DivisionLevel(obj.level).label)


class DivisionDetailOut(DivisionOut):
    path: list[DivisionOut] = Field(description="从省级到本区划的完整路径（含本区划）")
    children: list[DivisionOut] = Field(description="直接下级区划，按代码排序")

    @staticmethod
    def resolve_path(obj: Division) -> list[Division]:
        return services.division_path(obj.code)

    @staticmethod
    def resolve_children(obj: Division) -> list[Division]:
        return list(services.children_of(obj.code))


class DivisionSearchQuery(Schema):
    q: str = Field("", description="代码前缀（数字）或名称中包含的文字")
    level: DivisionLevel | None = Field(None, description="只返回该级别")
    parent: str | None = Field(None, description="只返回该上级区划（代码）的直接下级")
    current: bool = Field(False, description="只返回现行有效的区划")
    limit: int = Field(50, ge=1, le=500, description="最多返回条数")


class ErrorOut(Schema):
    detail: str = Field(description="错误说明（中文）")


def _bad_request(exc: ValidationError) -> HttpError:
    status = 404 if getattr(exc, "code", None) == "division_unknown" else 400
    return HttpError(status, "；".join(exc.messages))


@router.get(
    "/",
    response={200: list[DivisionOut], 400: ErrorOut, 404: ErrorOut},
    summary="搜索行政区划",
    description="按代码前缀或名称搜索，可按级别、上级区划筛选，按代码排序。",
)
def search(request: HttpRequest, filters: Query[DivisionSearchQuery]) -> list[Division]:
    try:
        qs = services.search_divisions(
            q=filters.q,
            level=filters.level,
            parent=filters.parent,
            current_only=filters.current,
        )
    except ValidationError as exc:
        raise _bad_request(exc) from exc
    return list(qs[: filters.limit])


@router.get(
    "/{code}",
    response={200: DivisionDetailOut, 400: ErrorOut, 404: ErrorOut},
    summary="查询行政区划",
    description="返回一个区划及其从省级开始的路径和直接下级。代码须为 6、9 或 12 位数字。",
)
def detail(request: HttpRequest, code: str) -> Division:
    try:
        return services.get_division(code)
    except ValidationError as exc:
        raise _bad_request(exc) from exc

"""The platform's REST API: one NinjaAPI, one router per app (mounted under /api/)."""

from ninja import NinjaAPI

from digitalcity.approval.api import router as approval_router
from digitalcity.cases.api import router as cases_router
from digitalcity.core.api import router as core_router
from digitalcity.hotline.api import router as hotline_router
from digitalcity.identity.api import router as identity_router
from digitalcity.registry.api import router as registry_router

api = NinjaAPI(
    title="数字城市政务平台 API",
    version="1",
    description=(
        "Digital City platform API. 认证：登录会话（Cookie + CSRF）。"
        "系统间调用的令牌随数据交换中心提供。"
    ),
    urls_namespace="api",
)
api.add_router("/core/", core_router)
api.add_router("/identity/", identity_router)
api.add_router("/registry/", registry_router)
api.add_router("/cases/", cases_router)
api.add_router("/approval/", approval_router)
api.add_router("/hotline/", hotline_router)

"""The knowledge import's per-row Excel error report: downloaded straight from the refused
upload, or afterwards from the errors shown on screen without choosing the file again."""

from __future__ import annotations

import io
import re
from html import unescape

from django.urls import reverse
from openpyxl import load_workbook

from digitalcity.hotline.models import KnowledgeCategory, KnowledgeEntry

GBK_CSV = (
    "标题,答复口径,知识分类,责任部门\n,正文,housing,dept-a\n租房提取,按月提取,没有这个分类,dept-a\n"
)


def _csv(text: str, encoding: str = "gbk") -> io.BytesIO:
    out = io.BytesIO(text.encode(encoding))
    out.name = "kb.csv"
    return out


def _rows(response) -> list[tuple]:
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    return [tuple(r) for r in sheet.iter_rows(values_only=True)]


def test_the_report_button_downloads_the_errors_of_a_gbk_csv(client, hw):
    KnowledgeCategory.objects.create(code="housing", name="住房保障")
    client.force_login(hw.p.clerk_a)
    response = client.post(
        reverse("hotline:knowledge_import"), {"file": _csv(GBK_CSV), "report": "1"}
    )
    rows = _rows(response)
    assert rows[0] == ("行号", "列", "问题")
    assert (2, "标题", "标题不能为空") in rows
    assert (3, "知识分类", "知识分类不存在或已停用") in rows
    assert KnowledgeEntry.objects.count() == 0


def test_the_errors_on_screen_download_as_the_same_report(client, hw):
    KnowledgeCategory.objects.create(code="housing", name="住房保障")
    client.force_login(hw.p.clerk_a)
    page = client.post(reverse("hotline:knowledge_import"), {"file": _csv(GBK_CSV)})
    html = page.content.decode()
    assert "未导入任何数据" in html
    action = reverse("hotline:knowledge_import_report")
    assert f'action="{action}"' in html
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match
    token = unescape(match[1])
    rows = _rows(client.post(action, {"token": token}))
    assert (2, "标题", "标题不能为空") in rows
    assert (3, "知识分类", "知识分类不存在或已停用") in rows

    # The token is bound to the user who saw the errors, and a forged one is refused.
    client.force_login(hw.p.clerk_b)
    other = client.post(action, {"token": token})
    assert other.status_code == 302
    assert other["Location"] == reverse("hotline:knowledge_import")
    client.force_login(hw.p.clerk_a)
    forged = client.post(action, {"token": token[:-2] + "xx"})
    assert forged.status_code == 302


def test_a_good_file_with_the_report_button_imports_normally(client, hw):
    KnowledgeCategory.objects.create(code="housing", name="住房保障")
    client.force_login(hw.p.clerk_a)
    good = _csv("标题,答复口径,知识分类,责任部门\n租房提取,按月提取,housing,dept-a\n")
    response = client.post(reverse("hotline:knowledge_import"), {"file": good, "report": "1"})
    assert response.status_code == 302
    assert KnowledgeEntry.objects.get().versions.get().title == "租房提取"


def test_the_report_refuses_outsiders_and_get(client, hw):
    url = reverse("hotline:knowledge_import_report")
    client.force_login(hw.p.citizen)
    assert client.post(url, {"token": "x"}).status_code == 404
    client.force_login(hw.p.clerk_a)
    assert client.get(url).status_code == 405

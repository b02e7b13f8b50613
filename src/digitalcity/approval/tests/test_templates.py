"""Material templates (样表): attached by the lead department's staff through the service
(checked by content), linked on the item and apply pages, downloadable by anyone (signed in
or not) for a published item through approval's own view; core's download view keeps its rule."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from digitalcity.core.models import StoredFile

from ..models import ItemMaterial
from ..services import TEMPLATE_PURPOSE, material_set_template
from .factories import World, pdf_upload, png_upload

pytestmark = pytest.mark.django_db


def _floor_plan(w: World) -> ItemMaterial:
    return ItemMaterial.objects.get(item=w.item, code="floor_plan")


def test_the_lead_departments_staff_attach_a_template_checked_by_content(world: World) -> None:
    material = _floor_plan(world)
    with pytest.raises(PermissionDenied):  # department B only co-reviews
        material_set_template(material=material, actor=world.p.clerk_b, upload=pdf_upload())
    with pytest.raises(PermissionDenied):
        material_set_template(material=material, actor=world.p.citizen, upload=pdf_upload())
    with pytest.raises(ValidationError) as info:  # a PNG named .pdf
        material_set_template(
            material=material, actor=world.window_a, upload=png_upload("平面图样表.pdf")
        )
    assert "经营场所平面图的样表" in str(info.value)
    material.refresh_from_db()
    assert material.template_id is None
    assert not StoredFile.objects.filter(purpose=TEMPLATE_PURPOSE).exists()
    material_set_template(
        material=material, actor=world.window_a, upload=pdf_upload("平面图样表.pdf")
    )
    material.refresh_from_db()
    assert material.template is not None
    assert material.template.purpose == TEMPLATE_PURPOSE
    material_set_template(material=material, actor=world.head_a, upload=None)
    material.refresh_from_db()
    assert material.template_id is None


def test_the_item_page_links_the_template_and_anyone_downloads_it_without_signing_in(
    world: World, client: Client
) -> None:
    material = _floor_plan(world)
    material_set_template(
        material=material, actor=world.window_a, upload=pdf_upload("平面图样表.pdf", "sample")
    )
    material.refresh_from_db()
    assert material.template_id is not None
    url = f"/approval/items/{world.item.code}/templates/floor_plan/"
    page = client.get(f"/approval/items/{world.item.code}/").content.decode()
    assert f'href="{url}"' in page
    assert "下载样表" in page
    assert "登录后下载" not in page
    # Citizens read the guide before they sign in: the anonymous visitor downloads it.
    for who in (None, world.p.citizen, world.p.legal_person, world.p.clerk_b):
        if who is not None:
            client.force_login(who)
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert "attachment" in response["Content-Disposition"]
        body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        assert body.startswith(b"%PDF")
        assert b"sample" in body
    # Signed in, core's download view serves it too (the admin links there).
    assert client.get(f"/core/files/{material.template_id}/").status_code == 200
    client.force_login(world.p.citizen)
    apply_page = client.get(f"/approval/items/{world.item.code}/apply/").content.decode()
    assert f'href="{url}"' in apply_page
    # A stopped item's templates are no longer public.
    world.item.is_active = False
    world.item.save()
    client.logout()
    assert client.get(url).status_code == 404


def test_the_public_view_serves_templates_only(world: World, client: Client) -> None:
    """Only a material's 样表 of that item: no other material, item or stored file."""
    material = _floor_plan(world)
    material_set_template(material=material, actor=world.window_a, upload=pdf_upload())
    code = world.item.code
    assert client.get(f"/approval/items/{code}/templates/id_card/").status_code == 404
    assert client.get("/approval/items/NO-SUCH/templates/floor_plan/").status_code == 404
    assert client.post(f"/approval/items/{code}/templates/floor_plan/").status_code == 405


def test_a_material_file_is_not_a_template_for_the_public(
    world: World, client: Client, in_2026: Any
) -> None:
    """The template rule admits template files only, not applicants' uploads, and the
    public template view never serves one even when it is linked as a template."""
    from ..services import application_apply
    from .factories import FORM_DATA, uploads

    application = application_apply(
        item=world.item, actor=world.p.citizen, form_data=FORM_DATA, uploads=uploads()
    )
    stored = application.materials.get(material__code="id_card").file
    assert stored is not None
    client.force_login(world.p.legal_person)
    assert client.get(f"/core/files/{stored.pk}/").status_code == 404
    # Even if someone pointed a material's template at an applicant's upload, the
    # public view serves only files stored as templates.
    ItemMaterial.objects.filter(item=world.item, code="floor_plan").update(template=stored)
    client.logout()
    assert client.get(f"/approval/items/{world.item.code}/templates/floor_plan/").status_code == 404

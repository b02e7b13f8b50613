"""core pages: downloading a stored file through the permission check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest

from digitalcity.core.files import can_download, file_response
from digitalcity.core.models import StoredFile


@login_required
def download_file(request: HttpRequest, pk: int) -> FileResponse:
    # Uploads are personal data: never served straight from MEDIA_ROOT (docs/deploy.md).
    # Outside the viewer's rights the file does not exist (404), as for every object.
    stored = StoredFile.objects.filter(pk=pk).first()
    if stored is None or not can_download(request.user, stored):
        raise Http404
    return file_response(stored)

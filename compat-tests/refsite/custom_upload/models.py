"""Upload models of a project that subclasses AbstractChunkedUpload instead of
using the package's ChunkedUpload (CHUNKED_UPLOAD_TABLE selects one, urls.py)."""
from django.conf import settings
from django.db import models

from chunked_upload.models import AbstractChunkedUpload


class MyUpload(AbstractChunkedUpload):
    """Own table, with the user foreign key the views filter on."""
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name='my_uploads', null=True, blank=True)


class MyAnonUpload(AbstractChunkedUpload):
    """Own table and no user field at all."""

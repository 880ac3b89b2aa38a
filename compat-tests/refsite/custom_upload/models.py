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


class OwnerUpload(AbstractChunkedUpload):
    """Own table; its user foreign key is `owner`, for views with
    `user_field_name = 'owner'` (CHUNKED_UPLOAD_USER_FIELD_NAME)."""
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name='owned_uploads', null=True, blank=True)

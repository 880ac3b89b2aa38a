from chunked_upload.models import ChunkedUpload
from django.db import models


class MyChunkedUpload(ChunkedUpload):
    """The package demo's upload model. A proxy, so its rows are the package's
    table `chunked_upload_chunkedupload`, which the Rust service writes: a
    concrete subclass would add a second table joined by Django but never
    filled by the service."""

    class Meta:
        proxy = True


class Document(models.Model):
    """Where the site keeps a finished upload (MyChunkedUploadCompleteView.on_completion)."""

    file = models.FileField(upload_to="documents/%Y/%m/%d")
    md5 = models.CharField(max_length=32)
    upload_id = models.CharField(max_length=32, unique=True)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.file.name

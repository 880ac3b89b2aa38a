from django.contrib import admin

from .models import Document, MyChunkedUpload

admin.site.register(MyChunkedUpload)
admin.site.register(Document)

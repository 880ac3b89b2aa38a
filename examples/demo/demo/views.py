from chunked_upload.views import ChunkedUploadCompleteView, ChunkedUploadView
from django.views.generic.base import TemplateView

from .models import Document, MyChunkedUpload


class ChunkedUploadDemo(TemplateView):
    template_name = "demo/chunked_upload_demo.html"


class MyChunkedUploadView(ChunkedUploadView):
    # Served by the Rust service behind nginx; `manage.py chunked_upload_env`
    # reads field_name and check_permissions from here.
    model = MyChunkedUpload
    field_name = "the_file"

    def check_permissions(self, request):
        # Allow non authenticated users to make uploads
        pass


class MyChunkedUploadCompleteView(ChunkedUploadCompleteView):
    # Served by Django: on_completion is site code.
    model = MyChunkedUpload

    def check_permissions(self, request):
        # Allow non authenticated users to make uploads
        pass

    def on_completion(self, uploaded_file, request):
        # uploaded_file reads the .part file; the FileField saves it through
        # the default storage, so the Document gets its own copy under
        # documents/ that outlives the upload row (delete_expired_uploads).
        # The view has already checked the md5 the client sent.
        Document.objects.create(
            file=uploaded_file,
            md5=request.POST["md5"],
            upload_id=request.POST["upload_id"],
        )

    def get_response_data(self, chunked_upload, request):
        return {
            "message": (
                "You successfully uploaded '%s' (%s bytes)!"
                % (chunked_upload.filename, chunked_upload.offset)
            )
        }

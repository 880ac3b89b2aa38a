from django.urls import path, re_path

from .views import ChunkedUploadDemo, MyChunkedUploadCompleteView, MyChunkedUploadView

urlpatterns = [
    path("", ChunkedUploadDemo.as_view(), name="chunked_upload"),
    # The package demo's URLs, trailing slash optional. nginx sends the first
    # one to the Rust service; Django keeps it too (the same view, e.g. when
    # the site runs without nginx).
    re_path(
        r"^api/chunked_upload_complete/?$",
        MyChunkedUploadCompleteView.as_view(),
        name="api_chunked_upload_complete",
    ),
    re_path(r"^api/chunked_upload/?$", MyChunkedUploadView.as_view(), name="api_chunked_upload"),
]

"""REFSITE_COMPANION_VIEWS=overrides: the demo URLs served by view subclasses
that override methods the chunked-upload service cannot run, as a site with
its own upload logic would (for the companion app's system check and
chunked_upload_env). The views behave as the package's.
REFSITE_COMPANION_VIEWS=anyone / denied: only check_permissions is
overridden: anonymous uploads allowed, or refused with Django's
PermissionDenied (which the service cannot mirror).
REFSITE_COMPANION_VIEWS=completion: only the complete view has site code
(on_completion, get_response_data), as in the deployment that routes the
upload URL alone to the service.
REFSITE_COMPANION_VIEWS=decorated: the package's upload view wrapped by
login_required in the URLconf (code the service cannot run); settings.py
does not switch ROOT_URLCONF for it: the tests override ROOT_URLCONF."""
import os
import sys

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from chunked_upload.views import ChunkedUploadCompleteView, ChunkedUploadView

COMPLETED = []


class StampedUploadView(ChunkedUploadView):
    content_range_header = 'HTTP_X_CONTENT_RANGE'

    def validate(self, request):
        pass

    def get_extra_attrs(self, request):
        return super().get_extra_attrs(request)


class NotifyingCompleteView(ChunkedUploadCompleteView):
    def on_completion(self, uploaded_file, request):
        COMPLETED.append(uploaded_file.name)

    def get_response_data(self, chunked_upload, request):
        return {}


class AnyoneUploadView(ChunkedUploadView):
    def check_permissions(self, request):
        pass


class DeniedUploadView(ChunkedUploadView):
    def check_permissions(self, request):
        if not request.user.is_authenticated:
            raise PermissionDenied('log in first')


class ReportingCompleteView(ChunkedUploadCompleteView):
    def on_completion(self, uploaded_file, request):
        sys.stderr.write('on_completion: %s %d bytes\n' % (uploaded_file.name, uploaded_file.size))
        sys.stderr.flush()

    def get_response_data(self, chunked_upload, request):
        return {'received': chunked_upload.offset, 'md5': chunked_upload.md5}


upload_view, complete_view = {
    'completion': (ChunkedUploadView, ReportingCompleteView),
    'anyone': (AnyoneUploadView, ChunkedUploadCompleteView),
    'denied': (DeniedUploadView, ChunkedUploadCompleteView),
}.get(os.environ.get('REFSITE_COMPANION_VIEWS'), (StampedUploadView, NotifyingCompleteView))
upload_func = upload_view.as_view()
if os.environ.get('REFSITE_COMPANION_VIEWS') == 'decorated':
    upload_view, complete_view = ChunkedUploadView, ChunkedUploadCompleteView
    upload_func = login_required(upload_view.as_view())

urlpatterns = [
    path('admin/', admin.site.urls),
    path('accounts/login/', auth_views.LoginView.as_view(), name='login'),
    re_path(r'^api/chunked_upload/?$', upload_func, name='api_chunked_upload'),
    re_path(r'^api/chunked_upload_complete/?$', complete_view.as_view(),
            name='api_chunked_upload_complete'),
]

"""refsite URL configuration: the django-chunked-upload demo project's URLs,
plus a real login page so tests obtain session/CSRF cookies like a browser."""
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from chunked_upload.models import ChunkedUpload
from chunked_upload.views import ChunkedUploadView, ChunkedUploadCompleteView
from custom_upload.models import MyAnonUpload, MyUpload, OwnerUpload

# Changed: CHUNKED_UPLOAD_TABLE picks the upload model, and the views' class
# attributes come from the variables the service reads (settings.py). Any of
# them set gives view subclasses, as a project customising the views writes:
#   class UploadView(ChunkedUploadView):
#       model = MyUpload; field_name = 'the_file'; user_field_name = 'owner'; ...
MODELS = {m._meta.db_table: m for m in (ChunkedUpload, MyUpload, MyAnonUpload, OwnerUpload)}
model = MODELS[settings.CHUNKED_UPLOAD_TABLE]


def check_permissions(self, request):
    """The demo project's override: anyone may upload."""
    pass


common, upload_attrs, complete_attrs = {}, {}, {}
if model is not ChunkedUpload:
    common['model'] = model
if settings.CHUNKED_UPLOAD_USER_FIELD_NAME != 'user':
    common['user_field_name'] = settings.CHUNKED_UPLOAD_USER_FIELD_NAME
if settings.CHUNKED_UPLOAD_PERMISSION == 'anyone':
    common['check_permissions'] = check_permissions
if settings.CHUNKED_UPLOAD_FIELD_NAME != 'file':
    upload_attrs['field_name'] = settings.CHUNKED_UPLOAD_FIELD_NAME
if settings.CHUNKED_UPLOAD_FAIL_IF_NO_HEADER:
    upload_attrs['fail_if_no_header'] = True
if settings.REFSITE_MAX_BYTES_ON_VIEW:
    upload_attrs['max_bytes'] = settings.REFSITE_VIEW_MAX_BYTES
if not settings.CHUNKED_UPLOAD_DO_MD5_CHECK:
    complete_attrs['do_md5_check'] = False

upload_view, complete_view = ChunkedUploadView, ChunkedUploadCompleteView
if common or upload_attrs:
    upload_view = type('UploadView', (ChunkedUploadView,), dict(common, **upload_attrs))
if common or complete_attrs:
    complete_view = type('UploadCompleteView', (ChunkedUploadCompleteView,),
                         dict(common, **complete_attrs))

# Changed: TRAILING_SLASH=required mounts the API with Django's usual `path()`
# (the slash-less URL is then APPEND_SLASH's business); `optional` is the demo's.
if settings.TRAILING_SLASH == 'required':
    api = [
        path('api/chunked_upload/', upload_view.as_view(), name='api_chunked_upload'),
        path('api/chunked_upload_complete/', complete_view.as_view(),
             name='api_chunked_upload_complete'),
    ]
else:
    api = [
        re_path(r'^api/chunked_upload/?$',
                upload_view.as_view(), name='api_chunked_upload'),
        re_path(r'^api/chunked_upload_complete/?$',
                complete_view.as_view(),
                name='api_chunked_upload_complete'),
    ]

urlpatterns = [
    path('admin/', admin.site.urls),
    path('accounts/login/', auth_views.LoginView.as_view(), name='login'),
    path('accounts/logout/', auth_views.LogoutView.as_view(), name='logout'),
] + api

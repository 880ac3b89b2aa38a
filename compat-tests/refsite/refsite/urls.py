"""refsite URL configuration: the django-chunked-upload demo project's URLs,
plus a real login page so tests obtain session/CSRF cookies like a browser."""
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from chunked_upload.models import ChunkedUpload
from chunked_upload.views import ChunkedUploadView, ChunkedUploadCompleteView
from custom_upload.models import MyAnonUpload, MyUpload

# Changed: CHUNKED_UPLOAD_TABLE picks the upload model; a subclass model gets
# view subclasses with `model = ...`, as a project using its own model does.
MODELS = {m._meta.db_table: m for m in (ChunkedUpload, MyUpload, MyAnonUpload)}
model = MODELS[settings.CHUNKED_UPLOAD_TABLE]
if model is ChunkedUpload:
    upload_view, complete_view = ChunkedUploadView, ChunkedUploadCompleteView
else:
    upload_view = type('UploadView', (ChunkedUploadView,), {'model': model})
    complete_view = type('UploadCompleteView', (ChunkedUploadCompleteView,), {'model': model})

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

"""refsite URL configuration: the django-chunked-upload demo project's URLs,
plus a real login page so tests obtain session/CSRF cookies like a browser."""
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from chunked_upload.views import ChunkedUploadView, ChunkedUploadCompleteView

urlpatterns = [
    path('admin/', admin.site.urls),
    path('accounts/login/', auth_views.LoginView.as_view(), name='login'),
    path('accounts/logout/', auth_views.LogoutView.as_view(), name='logout'),
    re_path(r'^api/chunked_upload/?$',
            ChunkedUploadView.as_view(), name='api_chunked_upload'),
    re_path(r'^api/chunked_upload_complete/?$',
            ChunkedUploadCompleteView.as_view(),
            name='api_chunked_upload_complete'),
]

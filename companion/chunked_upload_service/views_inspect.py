"""What the site's URLconf mounts at the upload and complete URLs, and what of
it the service can mirror (its view settings, CONTRACT.md) or cannot (code)."""
import inspect

from django.urls import Resolver404, resolve

DEFAULT_UPLOAD_URL = '/api/chunked_upload/'
DEFAULT_COMPLETE_URL = '/api/chunked_upload_complete/'

# Methods of django-chunked-upload's views that run site code the service
# cannot run. `check_permissions` is not listed: it is mirrored by its
# behaviour (CHUNKED_UPLOAD_PERMISSION).
BASE_METHODS = ('validate', 'pre_save', 'save', 'post_save', 'get_queryset',
                'is_valid_chunked_upload', 'dispatch', 'post', '_post')
UPLOAD_METHODS = BASE_METHODS + ('get_extra_attrs', 'get_max_bytes', 'create_chunked_upload',
                                 'get_response_data')
COMPLETE_METHODS = BASE_METHODS + ('md5_check', 'on_completion', 'get_response_data')

def nginx_upload_only(upload_url, slash_optional):
    """The nginx server block lines that send only the upload URL to the
    service and leave everything else (the complete URL too) on Django."""
    path = upload_url.rstrip('/')
    for ch in '.+*?()[]{}|^$':
        path = path.replace(ch, '\\' + ch)
    pattern = '^%s/?$' % path if slash_optional else '^%s/$' % path
    return [
        'location ~ %s {        # the upload URL: the chunked-upload service' % pattern,
        '    proxy_pass http://chunked_upload;',
        '    proxy_set_header Host $http_host;   # with its port: the CSRF Origin check compares it',
        '    proxy_http_version 1.1;',
        '    proxy_request_buffering off;',
        '    client_max_body_size 0;',
        '}',
        'location / {            # everything else, the complete URL included: Django',
        '    proxy_pass http://django;',
        '    proxy_set_header Host $http_host;',
        '}',
    ]


class MountedView:
    """The view a URL resolves to: its class, an instance with the
    `as_view(**initkwargs)` attributes, csrf_exempt, and whether the URL
    without its trailing slash reaches the same view."""

    def __init__(self, url, func, slash_optional):
        self.url = url
        self.func = func
        self.view_class = getattr(func, 'view_class', None)
        self.initkwargs = dict(getattr(func, 'view_initkwargs', {}) or {})
        self.csrf_exempt = bool(getattr(func, 'csrf_exempt', False))
        self.slash_optional = slash_optional
        self.instance = self.view_class(**self.initkwargs) if self.view_class else None

    def attr(self, name, default=None):
        return getattr(self.instance, name, default)

    def overridden(self, base, names):
        """The methods of `names` the mounted class (or as_view kwargs) defines
        differently from `base`."""
        out = []
        for name in names:
            if name in self.initkwargs:
                out.append(name)
                continue
            mine = getattr(self.view_class, name, None)
            theirs = getattr(base, name, None)
            if mine is theirs:
                continue
            # @method_decorator(csrf_exempt, name='dispatch') wraps the package's
            # own dispatch: that is CSRF_EXEMPT, not code to run.
            if (inspect.unwrap(mine) is theirs and getattr(mine, 'csrf_exempt', False)
                    and name == 'dispatch'):
                continue
            out.append(name)
        return out


def mounted(url):
    """MountedView at `url`, or None when nothing (or not a class-based view) is there."""
    try:
        match = resolve(url)
    except Resolver404:
        return None
    func = match.func
    if getattr(func, 'view_class', None) is None:
        return MountedView(url, func, False)
    bare = url.rstrip('/')
    optional = False
    if bare != url:
        try:
            optional = getattr(resolve(bare).func, 'view_class', None) is func.view_class
        except Resolver404:
            optional = False
    return MountedView(url, func, optional)


def base_views():
    from chunked_upload.views import ChunkedUploadCompleteView, ChunkedUploadView
    return ChunkedUploadView, ChunkedUploadCompleteView


def permission_behaviour(view):
    """'authenticated' if check_permissions refuses an anonymous user with the
    package's 403 ChunkedUploadError, 'anyone' if it lets them through, else
    the reason it cannot be mirrored (a string starting with 'cannot')."""
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory
    from chunked_upload.exceptions import ChunkedUploadError

    request = RequestFactory().post(view.url, HTTP_HOST=_a_host())
    request.user = AnonymousUser()
    try:
        view.instance.request = request
        view.instance.check_permissions(request)
    except ChunkedUploadError as e:
        if e.status_code == 403:
            return 'authenticated'
        return 'cannot be mirrored: check_permissions raised ChunkedUploadError %s' % e.status_code
    except Exception as e:  # noqa: BLE001 - any other outcome is site logic we cannot copy
        return 'cannot be mirrored: check_permissions raised %s: %s' % (type(e).__name__, e)
    return 'anyone'


def _a_host():
    from django.conf import settings
    for host in settings.ALLOWED_HOSTS:
        if host not in ('*',) and not host.startswith('.'):
            return host
    return 'localhost'

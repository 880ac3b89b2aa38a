"""What the site's URLconf mounts at the upload and complete URLs, and what of
it the service can mirror (its view settings, CONTRACT.md) or cannot (code)."""
import dis
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
        self.wrapped_by = wrapper_name(func)
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


def wrapper_name(func):
    """The name of the first decorator layer between `func` (what the URLconf
    mounts) and the function as_view() made, or None: functools.wraps copies
    view_class onto e.g. login_required(View.as_view()), so it looks plain.
    A csrf_exempt layer (it sets csrf_exempt, the function it wraps lacks
    it) is CSRF_EXEMPT, not code. Django 3.2's as_view function has the
    class's dispatch as __wrapped__ (update_wrapper): the chain stops there."""
    layer = func
    while True:
        inner = getattr(layer, '__wrapped__', None)
        view_class = getattr(layer, 'view_class', None)
        if inner is None or inspect.isclass(inner) or (
                view_class is not None and inner is getattr(view_class, 'dispatch', None)):
            return None
        if not (getattr(layer, 'csrf_exempt', False) and not getattr(inner, 'csrf_exempt', False)):
            code = getattr(layer, '__code__', None)
            if code is None:
                return repr(layer)
            module = inspect.getmodule(code)
            return '%s.%s' % (module.__name__ if module else code.co_filename,
                              getattr(code, 'co_qualname', code.co_name))
        layer = inner


def _body(func):
    return [(i.opname, i.argval) for i in dis.get_instructions(func.__code__)]


def _empty_1(self, request):
    pass


def _empty_2(self, request):
    """Only a docstring."""


def _empty_3(self, request):
    return


def _empty_4(self, request):
    return None


def _empty_5(self, request):
    """A docstring."""
    return None


EMPTY_BODIES = [_body(f) for f in (_empty_1, _empty_2, _empty_3, _empty_4, _empty_5)]


def trivially_empty(func):
    """Whether `func`'s body does nothing (pass, a docstring, return None),
    by its bytecode against such functions compiled by this interpreter."""
    code = getattr(func, '__code__', None)
    if code is None or code.co_freevars:
        return False
    references = (_empty_1, _empty_2, _empty_3, _empty_4, _empty_5)
    if code.co_code not in {f.__code__.co_code for f in references}:
        return False
    return _body(func) in EMPTY_BODIES


def permission_behaviour(view):
    """'authenticated' if the view keeps the package's own check_permissions,
    'anyone' if its override does nothing, else the reason it cannot be
    mirrored (a string starting with 'cannot'): code that refuses some
    logged-in users (is_staff...) would be let through by the service."""
    from chunked_upload.views import ChunkedUploadBaseView

    if 'check_permissions' in view.initkwargs:
        return 'cannot be mirrored: check_permissions is given to as_view()'
    func = getattr(view.view_class, 'check_permissions', None)
    if func is ChunkedUploadBaseView.check_permissions:
        return 'authenticated'
    if trivially_empty(func):
        return 'anyone'
    return ('cannot be mirrored: %s.%s.check_permissions is site code the service cannot run'
            % (view.view_class.__module__, view.view_class.__qualname__))

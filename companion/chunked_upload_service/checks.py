"""System checks (`manage.py check`): what of this site the chunked-upload
service cannot mirror.

W001 the service's md5 state table is missing (completion on Django reads whole files)
W002 the upload view overrides methods the service cannot run
W003 the complete view overrides methods the service cannot run
W004 upload view or package settings the service cannot read
W005 nothing suitable is mounted at the upload or complete URL
W006 the settings cannot be exported (`chunked_upload_env` would refuse them)
"""
import os

from django.conf import settings
from django.core.checks import Warning, register
from django.db import DatabaseError, connections

from . import ddl, envfile, service_env, views_inspect

ID = 'chunked_upload_service.W%03d'


def _urls():
    return (getattr(settings, 'CHUNKED_UPLOAD_SERVICE_UPLOAD_URL', views_inspect.DEFAULT_UPLOAD_URL),
            getattr(settings, 'CHUNKED_UPLOAD_SERVICE_COMPLETE_URL', views_inspect.DEFAULT_COMPLETE_URL))


def _views():
    """(upload MountedView or None, complete MountedView or None, messages)."""
    base_upload, base_complete = views_inspect.base_views()
    out, found = [], []
    for url, base in zip(_urls(), (base_upload, base_complete)):
        view = views_inspect.mounted(url)
        if view is None or view.view_class is None or not issubclass(view.view_class, base):
            out.append(Warning(
                '%s does not serve a chunked_upload.views.%s subclass' % (url, base.__name__),
                hint='Set CHUNKED_UPLOAD_SERVICE_UPLOAD_URL / CHUNKED_UPLOAD_SERVICE_COMPLETE_URL to '
                     'where the views are mounted.', id=ID % 5))
            view = None
        found.append(view)
    return found[0], found[1], out


@register()
def check_views(app_configs=None, **kwargs):
    upload, complete, messages = _views()
    base_upload, base_complete = views_inspect.base_views()
    if upload is not None:
        methods = upload.overridden(base_upload, views_inspect.UPLOAD_METHODS)
        if methods:
            messages.append(Warning(
                '%s.%s (at %s) overrides %s; the chunked-upload service cannot run that code'
                % (upload.view_class.__module__, upload.view_class.__qualname__, upload.url,
                   ', '.join(methods)),
                hint='Keep the upload URL on Django (do not route it to the service), or move that '
                     'logic elsewhere.', obj=upload.view_class, id=ID % 2))
        problems = service_env.upload_setting_problems(upload)
        permission = views_inspect.permission_behaviour(upload)
        if permission.startswith('cannot'):
            problems.append('CHUNKED_UPLOAD_PERMISSION %s' % permission)
        for problem in problems:
            messages.append(Warning(problem, obj=upload.view_class, id=ID % 4))
    if complete is not None:
        methods = complete.overridden(base_complete, views_inspect.COMPLETE_METHODS)
        if methods:
            messages.append(Warning(
                '%s.%s (at %s) overrides %s; the chunked-upload service cannot run that code'
                % (complete.view_class.__module__, complete.view_class.__qualname__, complete.url,
                   ', '.join(methods)),
                hint='Route only the upload URL to the service and leave the complete URL on Django '
                     '(this app makes its md5 O(1)); `manage.py chunked_upload_env` prints the nginx '
                     'locations.',
                obj=complete.view_class, id=ID % 3))
        for problem in service_env.view_problems(complete, 'complete'):
            messages.append(Warning(problem, obj=complete.view_class, id=ID % 3))
    for problem in service_env.package_setting_problems():
        messages.append(Warning(problem, id=ID % 4))
    return messages


@register()
def check_exportable(app_configs=None, **kwargs):
    """What `chunked_upload_env` would refuse (a DATABASES engine, a value no env file carries)."""
    if _views()[2]:
        return []   # W005 says it already
    try:
        service_env.build(*_urls())
    except (service_env.EnvError, envfile.Unwritable) as e:
        return [Warning('chunked_upload_env cannot export this site: %s' % e, id=ID % 6)]
    except Exception as e:  # noqa: BLE001 - a crash, reported rather than hidden
        return [Warning('chunked_upload_env crashed on this site: %s: %s' % (type(e).__name__, e),
                        id=ID % 6)]
    return []


@register()
def check_md5_state_table(app_configs=None, **kwargs):
    """The service's md5 state table for the upload model the site mounts.
    One introspection query; nothing is reported when the database is down."""
    from chunked_upload.models import ChunkedUpload
    upload, _, _ = _views()
    model = (upload.attr('model') if upload is not None else None) or ChunkedUpload
    table = ddl.state_table(model._meta.db_table)
    connection = connections['default']
    name = str(connection.settings_dict.get('NAME') or '')
    if connection.vendor == 'sqlite' and not (name.startswith(('file:', ':memory:')) or os.path.exists(name)):
        return []   # connecting would create the database file
    try:
        with connection.cursor() as cursor:
            tables = connection.introspection.table_names(cursor)
    except DatabaseError:
        return []
    if table in tables:
        return []
    if model._meta.db_table == ddl.DEFAULT_UPLOAD_TABLE:
        hint = 'Run `manage.py migrate chunked_upload_service` (or `chunked-upload migrate`).'
    else:
        hint = ('`chunked-upload serve` creates it at start, for CHUNKED_UPLOAD_TABLE=%s.'
                % model._meta.db_table)
    return [Warning('the chunked-upload md5 state table %s is missing: completion on Django reads the '
                    'whole file' % table, hint=hint, id=ID % 1)]

"""The Django series the service reproduces (`DJANGO_VERSION`); no Django import."""

SUPPORTED = ('3.2', '4.2', '5.2', '6.0', '6.1')


def nearest(version):
    """(series, exact): `version` (a (major, minor, ...) tuple) as a supported
    series, or the nearest one (by major*10 + minor) with exact=False."""
    mine = '%d.%d' % tuple(version[:2])
    if mine in SUPPORTED:
        return mine, True

    def distance(series):
        major, minor = map(int, series.split('.'))
        return abs((major * 10 + minor) - (version[0] * 10 + version[1]))
    return min(SUPPORTED, key=distance), False

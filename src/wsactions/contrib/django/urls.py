"""The account area: ``path("account/", include("wsactions.contrib.django.urls"))``.

Include it where ``WSACTIONS["URL_PREFIX"]`` says (default ``/account/``):
mailed links land on these pages. URL names: ``wsactions:<page>`` for every
page the shop offers (``WSACTIONS["PAGES"]``, at ``WSACTIONS["PATHS"]``),
and ``wsactions:static``.
"""

from __future__ import annotations

from django.urls import path

from .conf import get_config
from .views import page, static_file

app_name = "wsactions"

urlpatterns = [
    *(
        path(route, page(name), name=name)
        for name, (route, _) in get_config().area.pages.pages.items()
    ),
    path("static/<str:name>", static_file, name="static"),
]

"""The Django integration: customer accounts in your Django project.

::

    INSTALLED_APPS = [..., "wsactions.contrib.django"]

then ``python manage.py migrate`` creates the tables (``wsactions_*``) and
:class:`~wsactions.contrib.django.storage.DjangoStorage` keeps accounts,
addresses, saved cards, privilege groups, opt-in tokens, logins and
throttling counters in them through the ORM. On SQLite the database needs
``OPTIONS={"transaction_mode": "IMMEDIATE"}`` (see
:mod:`wsactions.contrib.django.storage`).
"""
